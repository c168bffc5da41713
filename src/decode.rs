//! Bytes into text: encoding sniffing (BOM, UTF-16 with and without BOM, UTF-8, Shift_JIS/CP932,
//! EUC-JP), binary detection, and a streaming decoder that yields UTF-8 in pieces of bounded size.

use encoding_rs::{Decoder, EUC_JP, Encoding, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE};
use std::io::{self, Read};

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// Text in this encoding; `bom` bytes at the start are a byte-order mark.
    Text { encoding: &'static Encoding, bom: usize },
    /// Not text (NUL bytes that are not UTF-16, or undecodable in every candidate encoding).
    Binary,
}

/// The encoding's name as reports give it.
pub fn encoding_name(e: &'static Encoding) -> &'static str {
    e.name()
}

/// Decides the encoding of a file from its first bytes (up to 64 KiB is plenty).
pub fn sniff(prefix: &[u8]) -> Sniff {
    if let Some((encoding, bom)) = Encoding::for_bom(prefix) {
        return Sniff::Text { encoding, bom };
    }
    let nuls = memchr::memchr_iter(0, prefix).count();
    // A prefix cut in the middle of a character is still UTF-8.
    let valid = Encoding::utf8_valid_up_to(prefix);
    if nuls == 0 && (valid == prefix.len() || prefix.len() - valid < 4 && utf8_incomplete_tail(&prefix[valid..])) {
        return Sniff::Text {
            encoding: UTF_8,
            bom: 0,
        };
    }
    if let Some(e) = utf16_without_bom(prefix, nuls) {
        return Sniff::Text { encoding: e, bom: 0 };
    }
    if nuls > 0 {
        return Sniff::Binary;
    }
    // Not clean UTF-8: whichever of UTF-8, Shift_JIS and EUC-JP decodes with the fewest errors
    // (UTF-8 first on a tie: a stray byte in a UTF-8 file is not another encoding).
    let utf8 = malformed(UTF_8, prefix);
    let sjis = malformed(SHIFT_JIS, prefix);
    let euc = malformed(EUC_JP, prefix);
    let mut best = (UTF_8, utf8);
    for cand in [(SHIFT_JIS, sjis), (EUC_JP, euc)] {
        if cand.1 < best.1 {
            best = cand;
        }
    }
    let (encoding, (errors, _)) = best;
    // More than 2% undecodable sequences: not text in any encoding we know.
    if errors * 50 > prefix.len().max(1) {
        return Sniff::Binary;
    }
    Sniff::Text { encoding, bom: 0 }
}

fn utf8_incomplete_tail(tail: &[u8]) -> bool {
    let Some(&lead) = tail.first() else {
        return true;
    };
    let need = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return false,
    };
    tail.len() < need && tail[1..].iter().all(|&b| (0x80..0xC0).contains(&b))
}

/// Counts (malformed sequences, half-width katakana) when decoding `bytes` as `enc`. Half-width
/// katakana are rare in real text and common when EUC-JP is misread as Shift_JIS.
fn malformed(enc: &'static Encoding, bytes: &[u8]) -> (usize, usize) {
    let mut dec = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 16);
    let mut errors = 0;
    let mut src = bytes;
    loop {
        let (res, read) = dec.decode_to_string_without_replacement(src, &mut out, false);
        src = &src[read..];
        match res {
            encoding_rs::DecoderResult::InputEmpty => break,
            encoding_rs::DecoderResult::OutputFull => out.reserve(src.len() * 3 + 16),
            encoding_rs::DecoderResult::Malformed(_, _) => errors += 1,
        }
    }
    let hw = out.chars().filter(|c| ('\u{FF61}'..='\u{FF9F}').contains(c)).count();
    (errors, hw)
}

/// UTF-16 without a BOM: ripgrep calls such files binary; we decode them. Decided by the parity
/// of NUL bytes (ASCII-heavy text) or, for NUL-free Japanese text, by the share of plausible
/// characters when no legacy encoding decodes the bytes cleanly.
fn utf16_without_bom(p: &[u8], nuls: usize) -> Option<&'static Encoding> {
    if p.len() < 4 {
        return None;
    }
    let n = p.len() / 2 * 2;
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, &b) in p[..n].iter().enumerate() {
        if b == 0 {
            if i % 2 == 0 { even += 1 } else { odd += 1 }
        }
    }
    let pairs = n / 2;
    let le = plausible_utf16(&p[..n], true);
    let be = plausible_utf16(&p[..n], false);
    if nuls > 0 {
        // NULs nearly all on one side, and the text decodes to plausible characters.
        if odd * 10 >= pairs && even * 20 <= odd && le >= 0.9 {
            return Some(UTF_16LE);
        }
        if even * 10 >= pairs && odd * 20 <= even && be >= 0.9 {
            return Some(UTF_16BE);
        }
        return None;
    }
    if malformed(SHIFT_JIS, p).0 == 0 || malformed(EUC_JP, p).0 == 0 {
        return None;
    }
    if le >= 0.97 && le >= be {
        Some(UTF_16LE)
    } else if be >= 0.97 {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn plausible_utf16(p: &[u8], little: bool) -> f64 {
    let mut good = 0usize;
    let mut total = 0usize;
    for ch in p.chunks_exact(2) {
        let u = if little {
            u16::from_le_bytes([ch[0], ch[1]])
        } else {
            u16::from_be_bytes([ch[0], ch[1]])
        };
        total += 1;
        let ok = matches!(u,
            0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0xA0..=0xFF | 0x2010..=0x206F | 0x3000..=0x30FF
            | 0x4E00..=0x9FFF | 0xFF00..=0xFFEF);
        if ok {
            good += 1;
        }
    }
    if total == 0 { 0.0 } else { good as f64 / total as f64 }
}

/// A streaming decoder: reads bytes from `inner` and appends UTF-8 text to a caller's buffer,
/// a bounded amount at a time. Malformed input becomes U+FFFD and is counted.
pub struct TextReader<R> {
    inner: R,
    decoder: Decoder,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    finished: bool,
    /// Bytes read from `inner` so far.
    pub bytes_read: u64,
    /// Replacement characters produced for malformed input.
    pub malformed: u64,
    encoding: &'static Encoding,
    /// The prefix was pure ASCII, so "UTF-8" was a guess: the first non-ASCII bytes decide.
    provisional: bool,
}

impl<R: Read> TextReader<R> {
    /// `prefix` holds bytes already read from the stream (its start), `encoding` what [`sniff`]
    /// said; a BOM of `bom` bytes at the start of `prefix` is skipped.
    pub fn new(inner: R, prefix: Vec<u8>, encoding: &'static Encoding, bom: usize) -> TextReader<R> {
        let end = prefix.len();
        let provisional = encoding == UTF_8 && bom == 0 && prefix.is_ascii();
        let mut buf = prefix;
        if buf.len() < 64 * 1024 {
            buf.resize(64 * 1024, 0);
        }
        TextReader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            buf,
            start: bom.min(end),
            end,
            eof: false,
            finished: false,
            bytes_read: end as u64,
            malformed: 0,
            encoding,
            provisional,
        }
    }

    /// The encoding text is decoded from (it can change once, after an ASCII-only prefix).
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// Appends up to about `max` bytes of decoded text to `out`. Returns false once the stream is
    /// exhausted and nothing was appended.
    pub fn read_text(&mut self, out: &mut String, max: usize) -> io::Result<bool> {
        if self.finished {
            return Ok(false);
        }
        let before = out.len();
        while out.len() - before < max {
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = 0;
                let n = loop {
                    match self.inner.read(&mut self.buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.bytes_read += n as u64;
                self.end = n;
                if n == 0 {
                    self.eof = true;
                }
                let first_non_ascii = if self.provisional {
                    self.buf[..n].iter().position(|b| !b.is_ascii())
                } else {
                    None
                };
                if let Some(p) = first_non_ascii {
                    self.provisional = false;
                    // Everything so far was ASCII: the decoder holds no state to lose.
                    if let Sniff::Text { encoding, .. } = sniff(&self.buf[p..n])
                        && (encoding == SHIFT_JIS || encoding == EUC_JP)
                    {
                        self.encoding = encoding;
                        self.decoder = encoding.new_decoder_without_bom_handling();
                    }
                }
            }
            let src = &self.buf[self.start..self.end];
            let want = self
                .decoder
                .max_utf8_buffer_length(src.len())
                .unwrap_or(src.len() * 3 + 16);
            out.reserve(want.max(16));
            let at = out.len();
            let (res, read, replaced) = self.decoder.decode_to_string(src, out, self.eof);
            if replaced {
                self.malformed += out[at..].matches('\u{FFFD}').count().max(1) as u64;
            }
            self.start += read;
            if self.eof && self.start == self.end && res == encoding_rs::CoderResult::InputEmpty {
                self.finished = true;
                break;
            }
        }
        Ok(out.len() > before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: Sniff) -> &'static str {
        match s {
            Sniff::Text { encoding, .. } => encoding.name(),
            Sniff::Binary => "binary",
        }
    }

    #[test]
    fn sniffs_japanese_encodings() {
        let text = "氏名,個人番号\n山田太郎,５２６０ １８１５ ９０８４\nカタカナとひらがな、漢字の文章です。\n";
        let (sj, _, _) = SHIFT_JIS.encode(text);
        let (eu, _, _) = EUC_JP.encode(text);
        assert_eq!(enc(sniff(text.as_bytes())), "UTF-8");
        assert_eq!(enc(sniff(&sj)), "Shift_JIS");
        assert_eq!(enc(sniff(&eu)), "EUC-JP");
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(enc(sniff(&le)), "UTF-16LE");
        assert_eq!(enc(sniff(&be)), "UTF-16BE");
        let ascii_le: Vec<u8> = "id,my_number\n1,526018159084\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(enc(sniff(&ascii_le)), "UTF-16LE");
        assert_eq!(enc(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")), "binary");
    }

    #[test]
    fn reads_in_pieces() {
        let text = "あいう".repeat(50_000);
        let (sj, _, _) = SHIFT_JIS.encode(&text);
        let mut r = TextReader::new(&sj[1000..], sj[..1000].to_vec(), SHIFT_JIS, 0);
        let mut out = String::new();
        while r.read_text(&mut out, 10_000).unwrap() {}
        assert_eq!(out, text);
        assert_eq!(r.malformed, 0);
    }
}
