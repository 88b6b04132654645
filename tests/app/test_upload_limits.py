"""Upload checks are bounded (issue 13 case 16): how many run at once, and image sizes."""

from __future__ import annotations

from .test_datasets import GOOD_ZIP, make_zip, png, upload


def test_uploads_past_the_concurrent_check_limit_wait_with_429(client, settings):
    slots = client.app.state.ctx.upload_slots
    held = [slots.acquire(blocking=False) for _ in range(settings.max_upload_checks)]
    assert all(held)  # the server's checks are all busy (as with slow zips in flight)
    try:
        r = upload(client, make_zip(GOOD_ZIP), "pets.zip")
        assert r.status_code == 429 and r.headers["retry-after"], r.text
        assert client.get("/api/datasets").json()["uploads"] == []
    finally:
        for _ in held:
            slots.release()
    assert upload(client, make_zip(GOOD_ZIP), "pets.zip").status_code == 201


def test_images_past_the_pixel_limit_are_refused(client, settings):
    side = int(settings.max_image_pixels ** 0.5) + 1
    r = upload(client, make_zip(GOOD_ZIP | {"cat/big.png": png((side, side), mode="1")}),
               "big.zip")
    assert r.status_code == 422 and "pixels" in r.json()["detail"], r.text
    assert settings.max_image_pixels <= 2048 * 2048
