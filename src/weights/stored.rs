//! A safetensors checkpoint read one tensor at a time from wherever its bytes are (a file, a
//! browser `Blob`), so that its values never sit in memory all at once: the engine keeps the
//! index and reads a tensor again when something asks for it.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use candle_core::{Device, Tensor};
use safetensors::tensor::Metadata;
use safetensors::Dtype;

use super::load::{check_finite, to_f32};
use super::{Naming, WeightsInfo};
use crate::{Error, Result};

/// The largest header read (what the `safetensors` crate allows too): 100 MB.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Bytes that can be read at any offset, without holding them all in memory.
pub trait ByteSource {
    /// Length in bytes.
    fn len(&self) -> u64;
    /// True when there are no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `out` with the bytes from `offset` on (the range lies inside [`ByteSource::len`]).
    fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<()>;
}

impl ByteSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<()> {
        let start = usize::try_from(offset).map_err(|_| out_of_range(offset))?;
        let bytes = self
            .get(start..start + out.len())
            .ok_or_else(|| out_of_range(offset))?;
        out.copy_from_slice(bytes);
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl ByteSource for std::fs::File {
    fn len(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        self.read_exact_at(out, offset)
            .map_err(|e| Error::WeightsFormat(format!("could not read the file: {e}")))
    }
}

fn out_of_range(offset: u64) -> Error {
    Error::WeightsFormat(format!(
        "a read at byte {offset} lies past the end of the file"
    ))
}

/// Where one tensor lies in the file.
#[derive(Clone, Debug)]
struct Entry {
    key: String,
    dtype: Dtype,
    shape: Vec<usize>,
    start: u64,
    len: usize,
}

/// A checkpoint's index (canonical name → where its values lie) over its bytes.
pub struct StoredCheckpoint {
    bytes: Rc<dyn ByteSource>,
    entries: BTreeMap<String, Entry>,
}

impl fmt::Debug for StoredCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCheckpoint")
            .field("bytes", &self.bytes.len())
            .field("tensors", &self.entries.len())
            .finish()
    }
}

fn format_error(message: impl Into<String>) -> Error {
    Error::WeightsFormat(message.into())
}

impl StoredCheckpoint {
    /// Reads the header of the safetensors file in `bytes` (and nothing else): the offsets are
    /// checked (contiguous, in range, each the size its dtype and shape say, the data section
    /// exactly the rest of the file) and the keys mapped to torchvision names.
    pub fn open(bytes: Rc<dyn ByteSource>, source: &str) -> Result<(Self, WeightsInfo)> {
        let total = bytes.len();
        if total < 8 {
            return Err(format_error(
                "the file is shorter than a safetensors header (truncated?)",
            ));
        }
        let mut prefix = [0u8; 8];
        bytes.read_at(0, &mut prefix)?;
        let n = u64::from_le_bytes(prefix);
        if n > MAX_HEADER_BYTES {
            return Err(format_error("the header is larger than 100 MB"));
        }
        if n > total - 8 {
            return Err(format_error(
                "the header claims to be longer than the file (truncated, or not a safetensors \
                 file)",
            ));
        }
        let mut header = vec![0u8; n as usize];
        bytes.read_at(8, &mut header)?;
        let text = std::str::from_utf8(&header)
            .map_err(|_| format_error("the header is not UTF-8 text"))?;
        let metadata: Metadata = serde_json::from_str(text)
            .map_err(|e| format_error(format!("the header does not parse: {e}")))?;
        let data_start = 8 + n;
        if data_start + metadata.data_len() as u64 != total {
            return Err(format_error(
                "the tensor data does not match the header's offsets (truncated or padded file)",
            ));
        }
        let tensors = metadata.tensors();
        let naming = Naming::detect(tensors.keys().map(String::as_str))?;
        let mut entries = BTreeMap::new();
        let mut dtypes: Vec<String> = Vec::new();
        for (key, info) in &tensors {
            let Some(name) = naming.canonical(key) else {
                continue;
            };
            let dtype = format!("{:?}", info.dtype).to_lowercase();
            if !dtypes.contains(&dtype) {
                dtypes.push(dtype);
            }
            let (s, e) = info.data_offsets;
            let entry = Entry {
                key: key.clone(),
                dtype: info.dtype,
                shape: info.shape.clone(),
                start: data_start + s as u64,
                len: e - s,
            };
            if let Some(first) = entries.insert(name.clone(), entry) {
                let (a, b) = if first.key < *key {
                    (first.key, key.clone())
                } else {
                    (key.clone(), first.key)
                };
                return Err(Error::UnexpectedTensor {
                    name: format!("{b} (a second tensor for {name}, beside {a})"),
                    shape: info.shape.clone(),
                });
            }
        }
        dtypes.sort();
        let info = WeightsInfo {
            source: source.to_string(),
            naming: Some(naming),
            dtype: dtypes.join("+"),
            pretrained: true,
        };
        Ok((Self { bytes, entries }, info))
    }

    /// Bytes of the tensors it maps to torchvision names (counters such as
    /// `num_batches_tracked` are not among them).
    pub fn parameter_bytes(&self) -> u64 {
        self.entries.values().map(|e| e.len as u64).sum()
    }

    /// The shape of tensor `name` (canonical), as the header states it.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.entries.get(name).map(|e| e.shape.as_slice())
    }

    /// Canonical names and shapes, as the header states them.
    pub fn shapes(&self) -> impl Iterator<Item = (&String, &[usize])> {
        self.entries.iter().map(|(k, e)| (k, e.shape.as_slice()))
    }

    /// The tensor `name` (canonical), read from the bytes and converted to f32; an error if it
    /// holds NaN or infinite values or is stored in a dtype we do not read.
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        let entry = self.entries.get(name).ok_or_else(|| Error::MissingTensor {
            name: name.to_string(),
            expected: Vec::new(),
        })?;
        let values = if entry.dtype == Dtype::F32 && entry.len % 4 == 0 {
            // Straight into the f32 buffer: no byte copy beside it.
            let mut values = vec![0f32; entry.len / 4];
            self.bytes
                .read_at(entry.start, bytemuck::cast_slice_mut(&mut values))?;
            // Stored little-endian (a no-op on little-endian targets: wasm, x86, ARM).
            for v in values.iter_mut() {
                *v = f32::from_bits(u32::from_le(v.to_bits()));
            }
            check_finite(&entry.key, &values)?;
            values
        } else {
            let mut raw = vec![0u8; entry.len];
            self.bytes.read_at(entry.start, &mut raw)?;
            to_f32(&entry.key, entry.dtype, &raw)?
        };
        Ok(Tensor::from_vec(values, entry.shape.clone(), &Device::Cpu)?)
    }

    /// Reads every tensor once, one at a time, and checks its values (dtype, finite): what a
    /// caller does before it drops the weights it has for these.
    pub fn check_values(&self) -> Result<()> {
        for name in self.entries.keys() {
            self.tensor(name)?;
        }
        Ok(())
    }
}
