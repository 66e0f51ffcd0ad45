// snappyjs 0.7.0 ships no types; the one function the spec-vector test uses (raw Snappy block format).
declare module 'snappyjs' {
  const snappy: { uncompress(compressed: Uint8Array): Uint8Array };
  export default snappy;
}
