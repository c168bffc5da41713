//! `--format csv`: one finding per row with the fields of SPEC §4. (Skeleton.)

use crate::report::{ErrorRecord, Finding, Sink, Summary};
use std::io::{self, Write};

pub struct CsvSink<W: Write> {
    out: W,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        CsvSink { out }
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn finding(&mut self, _f: &Finding) -> io::Result<()> {
        Ok(())
    }
    fn error(&mut self, _e: &ErrorRecord) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _s: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
