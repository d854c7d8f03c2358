//! Tokens: random, shown once, stored only as SHA-256 hashes, compared in constant time.
//!
//! `tokens.json` in the data directory lists every token's hash and scope. The admin token
//! comes from `--admin-token-file`: if the file exists its content is the token, otherwise a
//! new token is generated and written there (mode 0600).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::Engine;
use linegate::{Access, Scope, TokenHash, TokenStore};
use serde::{Deserialize, Serialize};

use crate::fsutil;

/// The name of the entry that holds the admin token from `--admin-token-file`.
const ADMIN_FILE_ENTRY: &str = "_admin";

/// What a stored token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Grant {
    /// Everything, including creating tokens and databases.
    Admin,
    /// Read and/or write one database (`*` for every database).
    Database {
        /// The database name.
        database: String,
        /// `read`, `write` or both.
        permissions: Vec<Permission>,
    },
}

/// One permission on a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Queries.
    Read,
    /// Writes.
    Write,
}

impl Grant {
    fn scope(&self) -> Scope {
        match self {
            Grant::Admin => Scope::Admin,
            Grant::Database {
                database,
                permissions,
            } => Scope::Databases(vec![(
                database.clone(),
                permissions
                    .iter()
                    .map(|p| match p {
                        Permission::Read => Access::Read,
                        Permission::Write => Access::Write,
                    })
                    .collect(),
            )]),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    name: String,
    /// SHA-256 of the token, hex.
    hash: String,
    grant: Grant,
    created: String,
}

/// The token store of a server.
pub struct Tokens {
    path: PathBuf,
    entries: RwLock<Vec<(TokenHash, Entry)>>,
}

impl Tokens {
    /// Loads `tokens.json` from the data directory.
    pub fn open(data_dir: &Path) -> io::Result<Tokens> {
        let path = data_dir.join("tokens.json");
        let entries: Vec<Entry> = fsutil::read_json_or_default(&path)?;
        // Older versions left the file readable by everyone.
        #[cfg(unix)]
        if !entries.is_empty() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        let entries = entries
            .into_iter()
            .filter_map(|e| Some((TokenHash::from_hex(&e.hash)?, e)))
            .collect();
        Ok(Tokens {
            path,
            entries: RwLock::new(entries),
        })
    }

    /// Makes the token in `file` the admin token, generating it first if the file does not
    /// exist. Returns the token when it was generated (to be shown once).
    pub fn admin_from_file(&self, file: &Path) -> io::Result<Option<String>> {
        let (token, generated) = match std::fs::read_to_string(file) {
            Ok(text) => (text.trim().to_owned(), None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let token = generate();
                write_private(file, &token)?;
                (token.clone(), Some(token))
            }
            Err(e) => return Err(e),
        };
        if token.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: the admin token file is empty", file.display()),
            ));
        }
        let hash = TokenHash::of(&token);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let current = entries
            .iter()
            .any(|(h, e)| e.name == ADMIN_FILE_ENTRY && h.ct_eq(&hash));
        if !current {
            entries.retain(|(_, e)| e.name != ADMIN_FILE_ENTRY);
            entries.push((hash, entry(ADMIN_FILE_ENTRY, &hash, Grant::Admin)));
            save(&self.path, &entries)?;
        }
        Ok(generated)
    }

    /// Creates a token with this grant and returns it; only its hash is kept.
    pub fn create(&self, name: &str, grant: Grant) -> io::Result<String> {
        let token = generate();
        let hash = TokenHash::of(&token);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.push((hash, entry(name, &hash, grant)));
        save(&self.path, &entries)?;
        Ok(token)
    }
}

impl TokenStore for Tokens {
    fn scope(&self, hash: &TokenHash) -> Option<Scope> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        // Compare with every entry, without stopping early, so timing says nothing about
        // which (or whether a) token matched.
        let mut found = None;
        for (stored, entry) in entries.iter() {
            if stored.ct_eq(hash) {
                found = Some(entry.grant.scope());
            }
        }
        found
    }
}

fn entry(name: &str, hash: &TokenHash, grant: Grant) -> Entry {
    Entry {
        name: name.to_owned(),
        hash: hash.to_hex(),
        grant,
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

fn save(path: &Path, entries: &[(TokenHash, Entry)]) -> io::Result<()> {
    let list: Vec<&Entry> = entries.iter().map(|(_, e)| e).collect();
    let bytes = serde_json::to_vec_pretty(&list).map_err(io::Error::other)?;
    fsutil::write_atomic(path, &bytes)
}

/// A new random token: `apiv3_` and 32 random bytes in URL-safe base64.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    format!(
        "apiv3_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn write_private(path: &Path, token: &str) -> io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path)?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use linegate::{AuthScheme, Credentials, WriteError};

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("linegate-auth-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn admin_file_is_generated_once_with_mode_0600_and_only_its_hash_is_stored() {
        let dir = dir("admin");
        let tokens = Tokens::open(&dir).unwrap();
        let file = dir.join("admin-token");
        let token = tokens.admin_from_file(&file).unwrap().expect("generated");
        assert!(token.starts_with("apiv3_") && token.len() > 40);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            tokens.admin_from_file(&file).unwrap(),
            None,
            "shown only once"
        );
        let stored = std::fs::read_to_string(dir.join("tokens.json")).unwrap();
        assert!(!stored.contains(&token));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let hashes = dir.join("tokens.json");
            let mode = std::fs::metadata(&hashes).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "tokens.json is private");
            // A file an older version left readable by everyone is made private on open.
            std::fs::set_permissions(&hashes, std::fs::Permissions::from_mode(0o644)).unwrap();
            Tokens::open(&dir).unwrap();
            let mode = std::fs::metadata(&hashes).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(stored.contains(&TokenHash::of(&token).to_hex()));

        let reopened = Tokens::open(&dir).unwrap();
        let creds = Credentials::new(AuthScheme::Bearer, token);
        assert_eq!(
            reopened.authorize(Some(&creds), "any", Access::Write),
            Ok(())
        );
    }

    #[test]
    fn database_tokens_are_scoped() {
        let dir = dir("scoped");
        let tokens = Tokens::open(&dir).unwrap();
        let token = tokens
            .create(
                "w",
                Grant::Database {
                    database: "db".into(),
                    permissions: vec![Permission::Write],
                },
            )
            .unwrap();
        let creds = Credentials::new(AuthScheme::Token, token);
        assert_eq!(tokens.authorize(Some(&creds), "db", Access::Write), Ok(()));
        assert!(matches!(
            tokens.authorize(Some(&creds), "db", Access::Read),
            Err(WriteError::Forbidden { .. })
        ));
        assert!(matches!(
            tokens.authorize(Some(&creds), "other", Access::Write),
            Err(WriteError::Forbidden { .. })
        ));
        let wrong = Credentials::new(AuthScheme::Token, "apiv3_nope");
        assert_eq!(
            tokens.authorize(Some(&wrong), "db", Access::Write),
            Err(WriteError::Unauthenticated)
        );
        assert_eq!(
            tokens.authorize(None, "db", Access::Write),
            Err(WriteError::Unauthenticated)
        );
    }
}
