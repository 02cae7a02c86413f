/** One line of an NDJSON input: its text, or only its length when it was longer than allowed. */
export type NdjsonLine = { lineNo: number; text: string } | { lineNo: number; tooLong: true; bytes: number };

const NEWLINE = 0x0a;
const CR = 0x0d;
const BOM = "\uFEFF";

/**
 * Splits a byte stream into lines without ever holding more than `maxLineBytes` of one line:
 * a longer line is skipped as it streams by and reported (`tooLong`, with its length), and reading
 * goes on with the next line. `\r\n` and `\n` both end a line; a UTF-8 byte order mark at the very
 * start is dropped (editors on Windows write one; JSON.parse refuses it). The bound and a reported
 * length count the line's own bytes: the `\r` of a `\r\n` is part of the line ending, so a line gets
 * the same verdict with either ending. Memory stays bounded by `maxLineBytes` + 1 (a trailing `\r`
 * whose `\n` is in the next chunk) plus one chunk, whatever the input.
 */
export async function* ndjsonLines(
  input: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<NdjsonLine> {
  let parts: Buffer[] = [];
  let held = 0; // bytes in `parts`
  let skipped = -1; // bytes of the current over-long line, or -1 while it fits
  let endsWithCR = false; // the last byte of the current line so far is \r: a line ending if \n follows
  let lineNo = 0;
  let first = true;

  const finish = (): NdjsonLine => {
    lineNo++;
    const isFirst = first;
    first = false;
    const ending = endsWithCR ? 1 : 0;
    endsWithCR = false;
    if (skipped >= 0) {
      const line: NdjsonLine = { lineNo, tooLong: true, bytes: skipped - ending };
      skipped = -1;
      return line;
    }
    let buf = Buffer.concat(parts, held);
    if (buf.length > 0 && buf[buf.length - 1] === CR) buf = buf.subarray(0, buf.length - 1);
    let text = buf.toString("utf8");
    if (isFirst && text.startsWith(BOM)) text = text.slice(1);
    return { lineNo, text };
  };

  for await (const chunk of input) {
    const data = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let start = 0;
    while (start <= data.length) {
      const nl = data.indexOf(NEWLINE, start);
      const end = nl === -1 ? data.length : nl;
      const piece = data.subarray(start, end);
      if (piece.length > 0) endsWithCR = piece[piece.length - 1] === CR;
      // A trailing \r is not counted (yet): it is the line ending when \n comes next; if another
      // byte comes instead, it is counted then, with that byte.
      if (skipped >= 0) skipped += piece.length;
      else if (held + piece.length - (endsWithCR ? 1 : 0) > maxLineBytes) {
        skipped = held + piece.length;
        parts = [];
        held = 0;
      } else if (piece.length > 0) {
        parts.push(Buffer.from(piece)); // a copy: the chunk's memory is not kept alive by one line
        held += piece.length;
      }
      if (nl === -1) break;
      yield finish();
      parts = [];
      held = 0;
      start = nl + 1;
    }
  }
  if (held > 0 || skipped >= 0) yield finish();
}
