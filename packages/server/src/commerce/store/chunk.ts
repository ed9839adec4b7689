/** Rows per multi-row statement: keeps the statements small on both drivers. */
export const CHUNK = 2_000;
