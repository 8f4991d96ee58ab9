//! The file a filesystem sink writes one part into, written past the page
//! cache where the filesystem allows it (`O_DIRECT` on Linux).
//!
//! A part file is written once, front to back, and the job never reads it
//! back, so staging its bytes in the page cache buys nothing and costs a
//! copy of every byte into freshly allocated cache pages. Profiles of the
//! JSON → parquet benchmark put that copy at a third of the job's CPU time
//! (and `dd` agrees: 0.6 – 2.7 s of system time per buffered GB here,
//! 0.05 – 0.07 s written direct). So bytes gather in one block-aligned
//! buffer and go to the disk a buffer at a time; the last, partial block is
//! padded to a whole one and the padding cut off again with `set_len`.
//!
//! Where the filesystem refuses direct I/O (tmpfs on older kernels, some
//! network filesystems), the file is written through the page cache as
//! usual; if a direct write is refused midway, the file is reopened without
//! it and goes on where it was. Either way the file holds the same bytes.
//!
//! [`Write::flush`] keeps a partial buffer: a part file is only complete,
//! and only visible, once [`PartFile::finish`] has written it out.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A writer that lends room in its own buffer, so that bytes made in
/// place (a compressed parquet page) are not made in a buffer of their own
/// and then copied in.
pub trait LendingWrite: Write {
    /// `len` bytes of room right after what was written, or `None` when the
    /// writer has none to lend (then write the bytes with `write_all`).
    fn room(&mut self, _len: usize) -> io::Result<Option<&mut [u8]>> {
        Ok(None)
    }

    /// Counts the first `len` bytes of the room last lent as written.
    fn commit(&mut self, _len: usize) {}
}

/// A plain file lends nothing.
impl LendingWrite for File {}

/// Direct I/O needs buffers, offsets and lengths in whole blocks of the
/// device; 4 KiB is a multiple of every logical block size in common use.
const BLOCK: usize = 4096;
/// Bytes gathered before each write: big enough that a direct write's fixed
/// cost is small next to its transfer.
const BUFFER: usize = 4 << 20;

pub struct PartFile {
    path: PathBuf,
    file: File,
    direct: bool,
    /// Holds `BUFFER + BLOCK` bytes, so that a block-aligned window of
    /// `BUFFER` bytes starts at `start`; it is never grown, so it never moves.
    storage: Vec<u8>,
    start: usize,
    /// Bytes of the window in use.
    filled: usize,
    /// Bytes already handed to the file.
    written: u64,
}

impl PartFile {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::create_with(path, true)
    }

    fn create_with(path: &Path, try_direct: bool) -> io::Result<Self> {
        let (file, direct) = match try_direct.then(|| open_direct(path)).flatten() {
            Some(file) => (file, true),
            None => (File::create(path)?, false),
        };
        let storage = vec![0u8; BUFFER + BLOCK];
        let start = storage.as_ptr().align_offset(BLOCK).min(BLOCK);
        Ok(PartFile {
            path: path.to_path_buf(),
            file,
            direct,
            storage,
            start,
            filled: 0,
            written: 0,
        })
    }

    fn window(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + BUFFER]
    }

    /// Writes the first `len` bytes of the window (a whole number of blocks
    /// when direct) and counts them.
    fn write_window(&mut self, len: usize) -> io::Result<()> {
        let range = self.start..self.start + len;
        match self.file.write_all(&self.storage[range.clone()]) {
            Err(e) if self.direct && e.kind() == io::ErrorKind::InvalidInput => {
                // The filesystem took the open but not the write: go on
                // through the page cache from where the file stands.
                self.reopen_buffered()?;
                self.file.write_all(&self.storage[range])?;
            }
            result => result?,
        }
        self.written += len as u64;
        Ok(())
    }

    fn reopen_buffered(&mut self) -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).open(&self.path)?;
        file.set_len(self.written)?;
        file.seek(SeekFrom::Start(self.written))?;
        self.file = file;
        self.direct = false;
        Ok(())
    }

    /// Writes out everything still buffered and closes the file.
    pub fn finish(mut self) -> io::Result<()> {
        let tail = self.filled;
        if tail == 0 {
            return Ok(());
        }
        if !self.direct {
            return self.write_window(tail);
        }
        // A direct write takes whole blocks only: pad the tail with zeros,
        // write it, and cut the padding off the file.
        let padded = tail.div_ceil(BLOCK) * BLOCK;
        self.window()[tail..padded].fill(0);
        self.write_window(padded)?;
        self.file.set_len(self.written - (padded - tail) as u64)
    }
}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

impl LendingWrite for PartFile {
    fn room(&mut self, len: usize) -> io::Result<Option<&mut [u8]>> {
        // Only what fits beside a partial block held back from the disk.
        if len > BUFFER - BLOCK {
            return Ok(None);
        }
        if BUFFER - self.filled < len {
            self.write_whole_blocks()?;
        }
        let filled = self.filled;
        Ok(Some(&mut self.window()[filled..filled + len]))
    }

    fn commit(&mut self, len: usize) {
        debug_assert!(self.filled + len <= BUFFER, "more committed than lent");
        self.filled = (self.filled + len).min(BUFFER);
    }
}

impl PartFile {
    /// Writes the buffered whole blocks (every byte, when not direct) and
    /// moves what is left, less than a block, to the front of the window,
    /// so the file's end stays block-aligned.
    fn write_whole_blocks(&mut self) -> io::Result<()> {
        let whole = if self.direct {
            self.filled / BLOCK * BLOCK
        } else {
            self.filled
        };
        self.write_window(whole)?;
        let start = self.start;
        self.storage
            .copy_within(start + whole..start + self.filled, start);
        self.filled -= whole;
        Ok(())
    }
}

impl Write for PartFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.filled == BUFFER {
            // Filled to the end through `room`.
            self.write_window(BUFFER)?;
            self.filled = 0;
        }
        let filled = self.filled;
        let taken = bytes.len().min(BUFFER - filled);
        self.window()[filled..filled + taken].copy_from_slice(&bytes[..taken]);
        self.filled += taken;
        if self.filled == BUFFER {
            self.write_window(BUFFER)?;
            self.filled = 0;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        // A partial buffer waits for `finish` (see the module docs).
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ from block to block, so a misplaced block shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + i / 4096) as u8).collect()
    }

    fn written_in_pieces(file: &mut PartFile, bytes: &[u8], piece: usize) {
        for chunk in bytes.chunks(piece) {
            file.write_all(chunk).unwrap();
        }
    }

    #[test]
    fn a_part_file_holds_exactly_the_bytes_written_whatever_their_length() {
        let dir = tempfile::tempdir().unwrap();
        let lengths = [
            0,
            1,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            BUFFER,
            BUFFER + 3,
            2 * BUFFER + BLOCK + 7,
        ];
        for (i, len) in lengths.into_iter().enumerate() {
            for buffered in [false, true] {
                let path = dir.path().join(format!("part-{i}-{buffered}"));
                let mut file = PartFile::create_with(&path, !buffered).unwrap();
                assert!(!buffered || !file.direct);
                let bytes = pattern(len);
                written_in_pieces(&mut file, &bytes, 8191);
                file.flush().unwrap();
                file.finish().unwrap();
                assert_eq!(std::fs::read(&path).unwrap(), bytes, "{len} bytes");
            }
        }
    }

    #[test]
    fn bytes_made_in_lent_room_and_bytes_written_land_in_order() {
        use rand::{Rng, SeedableRng};
        let dir = tempfile::tempdir().unwrap();
        for buffered in [false, true] {
            let mut rng = rand::rngs::StdRng::seed_from_u64(3);
            let path = dir.path().join(format!("part-{buffered}"));
            let mut file = PartFile::create_with(&path, !buffered).unwrap();
            let mut expected = Vec::new();
            for step in 0..200 {
                let len = match step % 5 {
                    0 => rng.random_range(0..BLOCK),
                    1 => BUFFER - BLOCK + rng.random_range(0..2),
                    _ => rng.random_range(0..BUFFER / 3),
                };
                let bytes = pattern(len + step);
                let bytes = &bytes[step..];
                match file.room(len + rng.random_range(0..100)).unwrap() {
                    Some(room) => {
                        room[..len].copy_from_slice(bytes);
                        file.commit(len);
                    }
                    None => {
                        assert!(len + 100 > BUFFER - BLOCK);
                        file.write_all(bytes).unwrap();
                    }
                }
                expected.extend_from_slice(bytes);
            }
            file.finish().unwrap();
            assert!(
                std::fs::read(&path).unwrap() == expected,
                "buffered {buffered}"
            );
        }
    }

    #[test]
    fn a_file_that_falls_back_midway_goes_on_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part");
        let mut file = PartFile::create(&path).unwrap();
        let bytes = pattern(BUFFER + BLOCK + 5);
        written_in_pieces(&mut file, &bytes[..BUFFER], 1 << 20);
        file.reopen_buffered().unwrap();
        written_in_pieces(&mut file, &bytes[BUFFER..], 1000);
        file.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn an_existing_file_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part");
        std::fs::write(&path, pattern(3 * BLOCK)).unwrap();
        let mut file = PartFile::create(&path).unwrap();
        file.write_all(b"new").unwrap();
        file.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }
}
