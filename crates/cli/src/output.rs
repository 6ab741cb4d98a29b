//! Writing results: to standard output, or atomically to a file.
//!
//! A regular file is written to a temporary sibling (`.NAME.tmp-PID`) and renamed over the
//! target only when everything was written, so a failed or interrupted run never leaves a
//! half-written file behind. A target that exists and is not a regular file (`/dev/null`,
//! `/dev/stdout`, a named pipe) is written in place: renaming over it would replace the device
//! with a plain file. A symbolic link is followed, so the file it points at is replaced and the
//! link stays.
//!
//! Temporary files still being written are listed in a process-wide registry;
//! [`remove_temporaries_on_signal`] (called once by `main`) removes them when the program is
//! interrupted (SIGINT, SIGTERM, SIGHUP) and exits with 128 + the signal number, so Ctrl-C leaves
//! no hidden `.NAME.tmp-PID` behind. [`OutputTarget::refuse_inputs`] refuses an output that is
//! one of the run's input files, which the rename would otherwise replace.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written, removed if a signal ends the program.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register(tmp: &Path) {
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.push(tmp.to_path_buf());
    }
}

fn unregister(tmp: &Path) {
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.retain(|p| p != tmp);
    }
}

/// Starts a thread that, on SIGINT, SIGTERM or SIGHUP, removes every temporary output file still
/// being written and exits with status 128 + the signal (130 for Ctrl-C). Call once, early.
pub fn remove_temporaries_on_signal() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Holding the lock until exit keeps a new temporary from appearing meanwhile.
                let list = TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner());
                for tmp in list.iter() {
                    let _ = std::fs::remove_file(tmp);
                }
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Where output goes.
#[derive(Clone, Debug)]
pub enum OutputTarget {
    Stdout,
    File(PathBuf),
}

impl OutputTarget {
    /// `None` or `-` is standard output.
    pub fn new(path: Option<&str>) -> OutputTarget {
        match path {
            None | Some("-") => OutputTarget::Stdout,
            Some(p) => OutputTarget::File(PathBuf::from(p)),
        }
    }

    /// Refuses a file target that is one of `inputs` (the same file, by device and inode, however
    /// the paths are spelled): the finished output would replace the data it was computed from.
    /// Inputs that do not exist or are not files (`-`, built-in names) are passed over.
    pub fn refuse_inputs(&self, option: &str, inputs: &[&str]) -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let OutputTarget::File(out) = self else {
            return Ok(());
        };
        let Ok(out_meta) = std::fs::metadata(out) else {
            return Ok(());
        };
        if !out_meta.is_file() {
            return Ok(());
        }
        for input in inputs {
            if *input == "-" {
                continue;
            }
            if let Ok(m) = std::fs::metadata(input) {
                if m.is_file() && m.dev() == out_meta.dev() && m.ino() == out_meta.ino() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "{option} {} is the input file {input}: writing there would replace \
                             the data; choose another output file",
                            out.display()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A file being written: committed by [`AtomicFile::commit`], removed if dropped before.
pub struct AtomicFile {
    writer: BufWriter<File>,
    /// (temporary file, final path) when the write goes through a rename.
    rename: Option<(PathBuf, PathBuf)>,
}

impl AtomicFile {
    /// Opens `path` for writing. Errors name the path.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let named = |e: io::Error, what: &str, p: &Path| {
            io::Error::new(e.kind(), format!("cannot {what} {}: {e}", p.display()))
        };
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is a directory, not an output file", path.display()),
                ))
            }
            Ok(meta) if !meta.is_file() => {
                // A device or a pipe: write in place.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| named(e, "write", path))?;
                return Ok(AtomicFile {
                    writer: BufWriter::with_capacity(1 << 16, file),
                    rename: None,
                });
            }
            _ => {}
        }
        // Follow a symbolic link to the file it names (a dangling one to where it points).
        let target = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(path).unwrap_or_else(|_| match std::fs::read_link(path) {
                    Ok(dest) if dest.is_relative() => {
                        path.parent().map(|dir| dir.join(&dest)).unwrap_or(dest)
                    }
                    Ok(dest) => dest,
                    Err(_) => path.to_path_buf(),
                })
            }
            _ => path.to_path_buf(),
        };
        let tmp = temp_path(&target);
        register(&tmp);
        let file = match File::create(&tmp) {
            Ok(file) => file,
            Err(e) => {
                unregister(&tmp);
                return Err(named(e, "create", &tmp));
            }
        };
        Ok(AtomicFile {
            writer: BufWriter::with_capacity(1 << 16, file),
            rename: Some((tmp, target)),
        })
    }

    /// Flushes, syncs and moves the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        self.writer.flush()?;
        match self.rename.take() {
            None => Ok(()),
            Some((tmp, target)) => {
                let synced = self.writer.get_ref().sync_all();
                let moved = synced.and_then(|_| {
                    std::fs::rename(&tmp, &target).map_err(|e| {
                        io::Error::new(e.kind(), format!("cannot write {}: {e}", target.display()))
                    })
                });
                if moved.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                unregister(&tmp);
                moved
            }
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some((tmp, _)) = self.rename.take() {
            let _ = std::fs::remove_file(&tmp);
            unregister(&tmp);
        }
    }
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = format!(".{name}.tmp-{}", std::process::id());
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

/// Runs `write` against the target; for a file, commits it atomically only if
/// `write` succeeds.
pub fn write_output(
    target: &OutputTarget,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match target {
        OutputTarget::Stdout => {
            let stdout = io::stdout();
            let mut lock = BufWriter::new(stdout.lock());
            match write(&mut lock).and_then(|_| lock.flush()) {
                // A closed pipe (`| head`) is not an error worth reporting.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        }
        OutputTarget::File(path) => {
            let mut file = AtomicFile::create(path)?;
            write(&mut file)?;
            file.commit()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ligand-out-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = scratch_dir("fail");
        let path = dir.join("r.csv");
        let target = OutputTarget::new(Some(path.to_str().unwrap()));
        write_output(&target, |w| w.write_all(b"old\n")).unwrap();
        let err = write_output(&target, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_output_that_is_an_input_is_refused() {
        let dir = scratch_dir("input");
        let data = dir.join("plate.csv");
        std::fs::write(&data, "conc,response\n1,2\n").unwrap();
        let other = dir.join("fits.csv");
        // The same file under another spelling is still the input.
        let spelled = dir.join(".").join("plate.csv");
        let target = OutputTarget::new(Some(spelled.to_str().unwrap()));
        let e = target
            .refuse_inputs("-o", &[data.to_str().unwrap()])
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("is the input file"), "{e}");
        // A symbolic link to the input is the input too.
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        let target = OutputTarget::new(Some(link.to_str().unwrap()));
        assert!(target
            .refuse_inputs("-o", &[data.to_str().unwrap()])
            .is_err());
        // Another file, a new file, stdout and `-` are fine.
        std::fs::write(&other, "old").unwrap();
        for t in [
            OutputTarget::new(Some(other.to_str().unwrap())),
            OutputTarget::new(Some(dir.join("new.csv").to_str().unwrap())),
            OutputTarget::new(None),
        ] {
            t.refuse_inputs("-o", &[data.to_str().unwrap(), "-"])
                .unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&data).unwrap(),
            "conc,response\n1,2\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporaries_are_registered_while_written() {
        let dir = scratch_dir("registry");
        let path = dir.join("r.csv");
        let listed = |p: &Path| TEMPORARIES.lock().unwrap().iter().any(|t| t == p);
        let tmp = temp_path(&path);
        let mut f = AtomicFile::create(&path).unwrap();
        assert!(listed(&tmp));
        f.write_all(b"x").unwrap();
        f.commit().unwrap();
        assert!(!listed(&tmp));
        drop(AtomicFile::create(&path).unwrap());
        assert!(!listed(&tmp));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dropped_file_is_not_committed() {
        let dir = scratch_dir("drop");
        let path = dir.join("r.csv");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_is_refused_by_name() {
        let dir = scratch_dir("dir");
        let err = AtomicFile::create(&dir)
            .err()
            .expect("a directory is no output file");
        assert!(err.to_string().contains("is a directory"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = scratch_dir("link");
        let real = dir.join("real.csv");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_output(&OutputTarget::File(link.clone()), |w| w.write_all(b"new\n")).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Writing to /dev/null must not replace the device with a plain file (a rename would).
    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        let is_device = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.file_type().is_char_device())
                .unwrap_or(false)
        };
        if !is_device(null) {
            // Nothing to protect on this machine (see .ci/run).
            return;
        }
        write_output(&OutputTarget::File(null.to_path_buf()), |w| {
            w.write_all(b"discarded\n")
        })
        .unwrap();
        assert!(is_device(null), "/dev/null is still the null device");
    }
}
