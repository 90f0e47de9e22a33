//! A `Blob` (a download's body, a cached response, a picked file) as bytes the engine reads one
//! tensor at a time: each read copies only that range into wasm memory.

use js_sys::Uint8Array;
use web_sys::{Blob, FileReaderSync};

use crate::weights::ByteSource;
use crate::{Error, Result};

/// A `Blob`, read synchronously (`FileReaderSync`, which workers have).
pub struct BlobBytes {
    blob: Blob,
    reader: FileReaderSync,
}

fn unreadable(what: String) -> Error {
    Error::WeightsFormat(format!("the browser could not read the file back: {what}"))
}

impl BlobBytes {
    /// Wraps `blob`.
    pub fn new(blob: Blob) -> Result<Self> {
        let reader = FileReaderSync::new().map_err(|e| unreadable(format!("{e:?}")))?;
        Ok(Self { blob, reader })
    }
}

impl ByteSource for BlobBytes {
    fn len(&self) -> u64 {
        self.blob.size() as u64
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<()> {
        let end = offset + out.len() as u64;
        if end > self.len() {
            return Err(unreadable(format!(
                "bytes {offset}..{end} are past its end"
            )));
        }
        let part = self
            .blob
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(|e| unreadable(format!("{e:?}")))?;
        let buffer = self
            .reader
            .read_as_array_buffer(&part)
            .map_err(|e| unreadable(format!("{e:?}")))?;
        let view = Uint8Array::new(&buffer);
        if view.length() as usize != out.len() {
            return Err(unreadable(format!(
                "{} bytes came back where {} were asked for",
                view.length(),
                out.len()
            )));
        }
        view.copy_to(out);
        Ok(())
    }
}
