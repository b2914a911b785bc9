//! The device file: one stable device uuid per (sign-in address, email), and with
//! `--remember-device` the remember-this-device token the server issued after a second factor,
//! so that a command run from cron signs in as the same device every time instead of
//! registering a new one (and answering a second factor) on each run.
//!
//! Format (JSON, written atomically with mode 0600 on Unix):
//!
//! ```json
//! {"version": 1, "devices": [{"address": "acme.1password.com", "email": "ops@acme.example",
//!   "device_uuid": "rz64r4uhyvgew672nm4ncaqonq", "remember_token": "..."}]}
//! ```
//!
//! Decision: a file that cannot be read as this format (too large, not JSON, wrong types, a
//! device uuid that is not one) is an error that names the file and tells the user to delete it
//! or pass `--no-device-file`; it is not ignored, because ignoring it would silently register a
//! new device on every run, which is what the file exists to prevent. Error messages never
//! quote the file's content.

use std::fs::File;
use std::path::{Path, PathBuf};

use opadmin::RememberToken;
use serde::{Deserialize, Serialize};

/// The largest device file read, in bytes (1 MiB); a larger file is refused unread.
pub const MAX_DEVICE_FILE_BYTES: u64 = 1 << 20;

/// The format version written and understood.
const VERSION: u32 = 1;

/// The longest sign-in address, email or remember token accepted from the file.
const MAX_FIELD_LEN: usize = 1024;

/// How a corrupt file is remedied, appended to every error about its content.
const REMEDY: &str =
    "delete it (a new device is registered at the next sign-in) or pass --no-device-file";

/// A device file that cannot be used. Messages name the file, never its content.
#[derive(Debug, thiserror::Error)]
pub enum DeviceFileError {
    /// The file is larger than [`MAX_DEVICE_FILE_BYTES`].
    #[error("the device file {} is larger than 1 MiB; {REMEDY}", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a regular file (a directory, a pipe, a device).
    #[error("the device file {} is not a regular file; {REMEDY}", .path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
    },
    /// The content is not a device file.
    #[error("the device file {} is not valid ({reason}); {REMEDY}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, without quoting the content.
        reason: String,
    },
    /// The file exists but could not be read.
    #[error("could not read the device file {}: {source}; fix its permissions or pass --no-device-file", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("could not write the device file {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The stored identity of one (sign-in address, email). `Debug` redacts the token.
#[derive(Clone, Serialize, Deserialize)]
pub struct DeviceEntry {
    /// The sign-in address, normalised (see [`normalise_address`]).
    pub address: String,
    /// The email, lower case.
    pub email: String,
    /// The device uuid: 26 lower-case base32 characters.
    pub device_uuid: String,
    /// The remember-this-device token, stored only with `--remember-device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_token: Option<RememberToken>,
}

impl std::fmt::Debug for DeviceEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceEntry")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("device_uuid", &self.device_uuid)
            .field(
                "remember_token",
                &self.remember_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl DeviceEntry {
    /// True when both name the same device with the same token.
    fn same_as(&self, other: &DeviceEntry) -> bool {
        self.device_uuid == other.device_uuid
            && self
                .remember_token
                .as_ref()
                .map(RememberToken::expose_secret)
                == other
                    .remember_token
                    .as_ref()
                    .map(RememberToken::expose_secret)
    }
}

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DeviceFile {
    version: u32,
    devices: Vec<DeviceEntry>,
}

/// A sign-in address as stored: trimmed, lower case, without a trailing slash.
pub fn normalise_address(address: &str) -> String {
    address.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// An email as stored: trimmed, lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// True for 26 lower-case base32 characters, the shape of a device uuid.
pub fn is_device_uuid(uuid: &str) -> bool {
    uuid.len() == 26
        && uuid
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// The default place of the device file: `$XDG_CONFIG_HOME/opadmin/devices.json`, else
/// `$HOME/.config/opadmin/devices.json` (on Windows `%APPDATA%\opadmin\devices.json`); `None`
/// when none of these variables is set.
pub fn default_path() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = if cfg!(windows) {
        absolute("APPDATA")
    } else {
        absolute("XDG_CONFIG_HOME").or_else(|| absolute("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("opadmin").join("devices.json"))
}

fn invalid(path: &Path, reason: impl Into<String>) -> DeviceFileError {
    DeviceFileError::Invalid {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Reads the file; a missing file is an empty one. Bounded: a file over
/// [`MAX_DEVICE_FILE_BYTES`], or one that is not a regular file, is refused before reading.
fn read(path: &Path) -> Result<DeviceFile, DeviceFileError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(DeviceFile {
                version: VERSION,
                devices: Vec::new(),
            });
        }
        Err(source) => {
            return Err(DeviceFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if !meta.is_file() {
        return Err(DeviceFileError::NotAFile {
            path: path.to_owned(),
        });
    }
    if meta.len() > MAX_DEVICE_FILE_BYTES {
        return Err(DeviceFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    let read_error = |source| DeviceFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let Some(bytes) = crate::files::read_capped(file, MAX_DEVICE_FILE_BYTES).map_err(read_error)?
    else {
        return Err(DeviceFileError::TooLarge {
            path: path.to_owned(),
        });
    };
    let file: DeviceFile = serde_json::from_slice(&bytes).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Syntax | Category::Io => "not JSON",
            Category::Eof => "cut short",
            Category::Data => "not the expected fields and types",
        };
        invalid(
            path,
            format!("{what} at line {} column {}", e.line(), e.column()),
        )
    })?;
    if file.version != VERSION {
        return Err(invalid(
            path,
            format!("version {} is not the supported {VERSION}", file.version),
        ));
    }
    for (i, entry) in file.devices.iter().enumerate() {
        let n = i + 1;
        if !is_device_uuid(&entry.device_uuid) {
            return Err(invalid(
                path,
                format!("entry {n}: device_uuid is not 26 lower-case base32 characters"),
            ));
        }
        if entry.address.is_empty() || entry.address.len() > MAX_FIELD_LEN {
            return Err(invalid(
                path,
                format!("entry {n}: address is empty or too long"),
            ));
        }
        if entry.email.is_empty() || entry.email.len() > MAX_FIELD_LEN {
            return Err(invalid(
                path,
                format!("entry {n}: email is empty or too long"),
            ));
        }
        if let Some(token) = &entry.remember_token {
            let t = token.expose_secret();
            if t.is_empty() || t.len() > MAX_FIELD_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    path,
                    format!("entry {n}: remember_token is not a token"),
                ));
            }
        }
    }
    Ok(file)
}

/// The stored entry for this sign-in address and email, if any.
pub fn load(
    path: &Path,
    address: &str,
    email: &str,
) -> Result<Option<DeviceEntry>, DeviceFileError> {
    let (address, email) = (normalise_address(address), normalise_email(email));
    let file = read(path)?;
    Ok(file
        .devices
        .into_iter()
        .find(|d| d.address == address && d.email == email))
}

/// Stores `entry` (replacing the one with the same address and email), re-reading the file
/// first so that entries written meanwhile by another run are kept. Does nothing when the
/// stored entry is already the same. Returns whether the file was written.
pub fn store(path: &Path, entry: DeviceEntry) -> Result<bool, DeviceFileError> {
    let entry = DeviceEntry {
        address: normalise_address(&entry.address),
        email: normalise_email(&entry.email),
        ..entry
    };
    let mut file = read(path)?;
    match file
        .devices
        .iter_mut()
        .find(|d| d.address == entry.address && d.email == entry.email)
    {
        Some(slot) if slot.same_as(&entry) => return Ok(false),
        Some(slot) => *slot = entry,
        None => file.devices.push(entry),
    }
    file.version = VERSION;
    let mut text = serde_json::to_vec_pretty(&file).map_err(|e| DeviceFileError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    text.push(b'\n');
    crate::files::write_atomically(path, &text).map_err(|source| DeviceFileError::Write {
        path: path.to_owned(),
        source,
    })?;
    Ok(true)
}

/// On Unix, true when the file can be read by others than its owner.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "rz64r4uhyvgew672nm4ncaqonq";
    const TOKEN: &str = "gUhBItRHUI7vAc04TJNUkA";

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("opadmin-device-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn entry(address: &str, email: &str, token: Option<&str>) -> DeviceEntry {
        DeviceEntry {
            address: address.into(),
            email: email.into(),
            device_uuid: UUID.into(),
            remember_token: token.map(RememberToken::from),
        }
    }

    #[test]
    fn stores_and_loads_by_address_and_email() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("sub").join("devices.json");
        assert!(
            load(&path, "acme.1password.com", "ops@acme.example")
                .unwrap()
                .is_none()
        );
        assert!(
            store(
                &path,
                entry("ACME.1password.com/", "Ops@Acme.example", Some(TOKEN))
            )
            .unwrap()
        );
        let other = DeviceEntry {
            device_uuid: "abcdefghijklmnopqrstuvwxyz".into(),
            ..entry("acme.1password.com", "other@acme.example", None)
        };
        assert!(store(&path, other).unwrap());
        // The same entry again leaves the file alone.
        assert!(
            !store(
                &path,
                entry("acme.1password.com", "ops@acme.example", Some(TOKEN))
            )
            .unwrap()
        );
        let got = load(&path, " acme.1password.com", "OPS@acme.example")
            .unwrap()
            .expect("stored");
        assert_eq!(got.device_uuid, UUID);
        assert_eq!(got.remember_token.unwrap().expose_secret(), TOKEN);
        let other = load(&path, "acme.1password.com", "other@acme.example")
            .unwrap()
            .expect("stored");
        assert_eq!(other.device_uuid, "abcdefghijklmnopqrstuvwxyz");
        assert!(other.remember_token.is_none());
        assert!(
            load(&path, "acme.1password.eu", "ops@acme.example")
                .unwrap()
                .is_none()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            assert!(!readable_by_others(&path));
        }
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("devices.json")]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn hostile_files_are_typed_errors_that_quote_nothing() {
        let dir = temp_dir("hostile");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("devices.json");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not json at all SECRETVALUE".to_vec(), "not JSON"),
            (b"{\"version\":1,\"devices\":[".to_vec(), "cut short"),
            (
                b"{\"version\":1,\"devices\":[{\"address\":\"a\",\"email\":\"b\",\"device_uuid\":7}]}"
                    .to_vec(),
                "fields and types",
            ),
            (
                br#"{"version":1,"devices":[{"address":"a","email":"b","device_uuid":"SECRETVALUE"}]}"#
                    .to_vec(),
                "device_uuid",
            ),
            (
                format!("{{\"version\":1,\"devices\":[{{\"address\":\"a\",\"email\":\"b\",\"device_uuid\":\"{UUID}\",\"remember_token\":\"SECRET VALUE\"}}]}}")
                    .into_bytes(),
                "remember_token",
            ),
            (b"{\"version\":9,\"devices\":[]}".to_vec(), "version 9"),
            (b"[\"SECRETVALUE\"]".to_vec(), "fields and types"),
            (vec![b' '; (MAX_DEVICE_FILE_BYTES + 1) as usize], "larger than 1 MiB"),
        ];
        for (content, expected) in cases {
            std::fs::write(&path, &content).unwrap();
            let err = load(&path, "a", "b").expect_err("refused");
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(expected), "{expected}: {shown}");
            assert!(shown.contains("--no-device-file"), "{shown}");
            assert!(!shown.contains("SECRET"), "{shown}");
            // Storing over a corrupt file refuses too, and leaves it as it was.
            assert!(store(&path, entry("a", "b", None)).is_err());
            assert_eq!(std::fs::read(&path).unwrap(), content);
        }
        let err = load(&dir, "a", "b").expect_err("a directory");
        assert!(matches!(err, DeviceFileError::NotAFile { .. }), "{err:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_of_an_entry_hides_the_token() {
        let shown = format!("{:?}", entry("a", "b", Some(TOKEN)));
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains(UUID), "{shown}");
    }

    #[test]
    fn device_uuid_shape() {
        assert!(is_device_uuid(UUID));
        assert!(!is_device_uuid(&UUID.to_uppercase()));
        assert!(!is_device_uuid("short"));
        assert!(!is_device_uuid("rz64r4uhyvgew672nm4ncaqon1"));
    }
}
