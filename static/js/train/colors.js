/**
 * Class colours shared by the scatter preview, the decision boundary and the
 * try-it probabilities, so class 2 is the same colour everywhere.
 */
export const CLASS_COLORS = [
  [37, 99, 235], [234, 88, 12], [22, 163, 74], [147, 51, 234], [220, 38, 38],
  [8, 145, 178], [202, 138, 4], [219, 39, 119], [100, 116, 139], [101, 163, 13],
];

export const classColor = (i, alpha = 1) => {
  const [r, g, b] = CLASS_COLORS[((i % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length];
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
};

/** Blend two RGB triples by t in 0..1. */
export const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));
