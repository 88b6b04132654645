/**
 * Output references, as graph format v1 writes them: a node id (port 0) or
 * `{"node": id, "port": n}` for output port n of a node with several outputs.
 *
 * Pure helpers shared by the graph state, the canvas and the inspector. Ids may
 * hold any character, so a reference is never parsed from a string: code that
 * needs one key per reference uses `refKey`, which is only compared, never split.
 */

/** The node a reference reads. */
export const refNode = (ref) => (typeof ref === "string" ? ref : ref?.node ?? null);

/** The output port a reference reads (0 for a plain id). */
export const refPort = (ref) => (typeof ref === "string" ? 0 : ref?.port ?? 0);

/** The shortest reference to a port: a plain id for port 0, as the format prefers. */
export const makeRef = (node, port = 0) => (port ? { node, port } : node);

/** One string per (node, port), for sets and maps. */
export const refKey = (ref) => JSON.stringify([refNode(ref), refPort(ref)]);

export const sameRef = (a, b) => refNode(a) === refNode(b) && refPort(a) === refPort(b);

/** How a reference reads in the page: `lstm` or `halves.1`. */
export const refLabel = (ref) => (refPort(ref) ? `${refNode(ref)}.${refPort(ref)}` : refNode(ref));

/** The graph's (or a block's) `output` as a list of references (empty when unset). */
export function outputList(output) {
  if (output === null || output === undefined) return [];
  return Array.isArray(output) ? output : [output];
}

/** The same reference with its node renamed by `fn(id) -> id` (port kept). */
export const mapRef = (ref, fn) => makeRef(fn(refNode(ref)), refPort(ref));
