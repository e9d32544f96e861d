//! Reading the command stream: lines as bytes, at most `MAX_LINE_BYTES` of each held in
//! memory, each validated as UTF-8 on its own, so one bad byte or one endless line costs
//! that line only (docs/cli.md#ingest).

use dacu_core::command::MAX_LINE_BYTES;
use std::io::{self, BufRead, BufReader, Read};

/// One line of input, without its newline.
pub enum Raw<'a> {
    Text(&'a str),
    /// More than `MAX_LINE_BYTES` before the newline; the rest was read and dropped.
    TooLong,
    /// Not UTF-8: the offset of the first bad byte.
    NotUtf8(usize),
}

pub struct Lines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
}

impl<R: Read> Lines<R> {
    pub fn new(inner: R) -> Lines<R> {
        Lines { reader: BufReader::with_capacity(1 << 20, inner), buf: Vec::new() }
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Raw<'_>>> {
        self.buf.clear();
        // Read one byte past the limit: a line of exactly MAX_LINE_BYTES still fits with its
        // newline, and one more byte without a newline proves the line too long.
        let n = (&mut self.reader).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() > MAX_LINE_BYTES {
            self.skip_rest()?;
            return Ok(Some(Raw::TooLong));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(match std::str::from_utf8(&self.buf) {
            Ok(text) => Raw::Text(text),
            Err(e) => Raw::NotUtf8(e.valid_up_to()),
        }))
    }

    /// Drops the rest of an overlong line, up to and including its newline, a buffer at a
    /// time, so memory stays flat whatever its length.
    fn skip_rest(&mut self) -> io::Result<()> {
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let len = chunk.len();
                    self.reader.consume(len);
                }
            }
        }
    }

    /// Whether the next line can be read without waiting on the input: false means the
    /// next read may block (a slow producer on a pipe), so what was parsed should go on.
    pub fn has_buffered(&self) -> bool {
        !self.reader.buffer().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<String> {
        let mut lines = Lines::new(input);
        let mut out = Vec::new();
        while let Some(raw) = lines.next_line().unwrap() {
            out.push(match raw {
                Raw::Text(t) => format!("text:{t}"),
                Raw::TooLong => "too_long".into(),
                Raw::NotUtf8(at) => format!("not_utf8:{at}"),
            });
        }
        out
    }

    #[test]
    fn a_bad_byte_or_an_endless_line_costs_only_its_line() {
        let mut input = b"a\r\n\xffb\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 1));
        input.extend(b"\nc\n");
        input.extend(std::iter::repeat_n(b'y', MAX_LINE_BYTES));
        input.extend(b"\nlast");
        let got = all(&input);
        assert_eq!(got.len(), 6);
        assert_eq!(got[..4], ["text:a", "not_utf8:0", "too_long", "text:c"]);
        assert_eq!(got[4].len(), "text:".len() + MAX_LINE_BYTES, "exactly the limit is accepted");
        assert_eq!(got[5], "text:last");
    }

    #[test]
    fn an_overlong_last_line_without_newline_ends_the_input() {
        let input = vec![b'z'; MAX_LINE_BYTES * 3];
        assert_eq!(all(&input), ["too_long"]);
    }
}
