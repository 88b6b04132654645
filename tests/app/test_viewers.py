"""A viewer's queue: filled from another thread without blocking, bounded, then dropped."""

from __future__ import annotations

import asyncio
import threading

from server.app.viewers import Item, Viewer


def test_items_pushed_from_a_thread_arrive_in_order():
    async def main():
        viewer = Viewer(asyncio.get_running_loop(), maxsize=100)

        def produce():
            for seq in range(50):
                viewer.push(Item(seq, f"{seq}", False))
            viewer.push(Item(50, "end", True))

        threading.Thread(target=produce).start()
        got = []
        while not got or not got[-1].final:
            got += await asyncio.wait_for(viewer.get(), 5)
        return got

    got = asyncio.run(main())
    assert [i.seq for i in got] == list(range(51))


def test_a_full_queue_drops_the_viewer_without_blocking():
    async def main():
        viewer = Viewer(asyncio.get_running_loop(), maxsize=3)
        for seq in range(10):  # never blocks, even though nobody reads
            viewer.push(Item(seq, "x", False))
        assert viewer.dropped
        await asyncio.wait_for(viewer.dropped_event.wait(), 5)
        return await asyncio.wait_for(viewer.get(), 5)

    assert asyncio.run(main()) == []


def test_end_wakes_a_waiting_reader():
    async def main():
        viewer = Viewer(asyncio.get_running_loop(), maxsize=3)
        threading.Timer(0.05, viewer.end).start()
        got = await asyncio.wait_for(viewer.get(), 5)
        return got, viewer.ended

    assert asyncio.run(main()) == ([], True)


def test_push_to_a_closed_loop_is_harmless():
    loop = asyncio.new_event_loop()
    viewer = Viewer(loop, maxsize=3)
    loop.close()
    viewer.push(Item(0, "x", False))  # must not raise into the run's thread
    viewer.end()


def test_a_queue_is_bounded_in_bytes_too():
    """Boundary grids are 40 KB each: a count alone would let a stuck viewer hold 160 MB."""
    async def main():
        viewer = Viewer(asyncio.get_running_loop(), maxsize=4096, max_bytes=100_000)
        for seq in range(3):
            viewer.push(Item(seq, "x" * 40_000, False))
        return viewer.dropped

    assert asyncio.run(main()) is True


def test_reading_frees_the_byte_budget():
    async def main():
        viewer = Viewer(asyncio.get_running_loop(), maxsize=4096, max_bytes=100_000)
        got = 0
        for seq in range(10):
            viewer.push(Item(seq, "x" * 40_000, False))
            got += len(await asyncio.wait_for(viewer.get(), 5))
        return got, viewer.dropped

    assert asyncio.run(main()) == (10, False)
