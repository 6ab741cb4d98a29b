//! Writing results: to standard output, or atomically to a file.
//!
//! A file is written to a temporary sibling (`.NAME.tmp-PID`) and renamed
//! over the target only when everything was written, so a failed or
//! interrupted run never leaves a half-written file behind.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

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
            let tmp = temp_path(path);
            let result = (|| {
                let file = File::create(&tmp).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot create {}: {e}", tmp.display()))
                })?;
                let mut w = BufWriter::new(file);
                write(&mut w)?;
                w.flush()?;
                w.get_ref().sync_all()?;
                Ok(())
            })();
            match result {
                Ok(()) => std::fs::rename(&tmp, path).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
                }),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("ligand-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
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
}
