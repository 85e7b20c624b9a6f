/**
 * Whether bytes are a text a dataset can be read from, and the text. One rule for every way data arrives:
 * the engine reading a file or folder, and the host taking a file a user adds through the page. Pure (the
 * global TextDecoder), so both sides share it.
 *
 * NUL bytes never occur in text; UTF-16 (a BOM) is text in an encoding we do not read; many invalid UTF-8
 * sequences or control characters mean a binary format. A few invalid bytes in otherwise good UTF-8 are
 * tolerated (they become U+FFFD), as editors do.
 */

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/** The text, or what is wrong with the bytes in words that follow a file's name ("x.txt: looks binary …"). */
export function readUtf8Text(buf: Uint8Array): { ok: true; text: string } | { ok: false; problem: string } {
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    return { ok: false, problem: 'is UTF-16 text; save it as UTF-8' };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) return { ok: false, problem: `looks binary (a NUL byte at offset ${nul}); datasets must be UTF-8 text files` };
  const text = utf8.decode(buf);
  let bad = 0;
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd) bad++;
    else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || c === 0x7f) control++;
  }
  const n = Math.max(text.length, 1);
  if (bad > 16 && bad / n > 0.01) {
    return { ok: false, problem: `looks binary or is not UTF-8 (${bad} invalid UTF-8 sequences in ${text.length} characters); convert it to UTF-8 text` };
  }
  if (control > 16 && control / n > 0.01) {
    return { ok: false, problem: `looks binary (${control} control characters in ${text.length} characters); datasets must be text files` };
  }
  return { ok: true, text };
}
