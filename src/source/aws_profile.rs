//! The AWS shared configuration files (`~/.aws/credentials`, `~/.aws/config`) for the profile in
//! `AWS_PROFILE` (else `default`): static keys, session token, region and `endpoint_url`, as the
//! AWS CLI reads them. Environment variables still win; SSO and `credential_process` profiles are
//! not run (object_store's own chain — web identity, ECS, IMDS — covers the rest).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a profile gives.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Profile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Sections of an INI file: name → key → value (keys lower-cased, values trimmed).
fn sections(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = Some(name.trim().to_string());
            continue;
        }
        // Indented lines are sub-settings (`s3 =` blocks): not used here.
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if let (Some(sec), Some((k, v))) = (&current, t.split_once('=')) {
            out.entry(sec.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

/// The profile `name` from the texts of the credentials and config files.
pub fn parse(name: &str, credentials: &str, config: &str) -> Profile {
    let creds = sections(credentials);
    let conf = sections(config);
    let config_section = if name == "default" {
        conf.get("default")
    } else {
        conf.get(&format!("profile {name}"))
    };
    let get = |k: &str| {
        creds
            .get(name)
            .and_then(|s| s.get(k))
            .or_else(|| config_section.and_then(|s| s.get(k)))
            .cloned()
    };
    Profile {
        access_key_id: get("aws_access_key_id"),
        secret_access_key: get("aws_secret_access_key"),
        session_token: get("aws_session_token"),
        region: config_section.and_then(|s| s.get("region")).cloned(),
        endpoint_url: config_section.and_then(|s| s.get("endpoint_url")).cloned(),
    }
}

fn home_file(var: &str, rel: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(rel)),
    }
}

/// The profile of this environment (`AWS_PROFILE`, else `default`); empty when the files are absent.
pub fn load() -> Profile {
    let name = std::env::var("AWS_PROFILE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "default".into());
    let read = |p: Option<PathBuf>| p.and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let credentials = read(home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"));
    let config = read(home_file("AWS_CONFIG_FILE", ".aws/config"));
    parse(&name, &credentials, &config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDS: &str = "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n\
                         [audit]\naws_access_key_id=AKIDAUDIT\naws_secret_access_key=s2\naws_session_token = t2\n";
    const CONFIG: &str = "[default]\nregion = ap-northeast-1\n\n# comment\n[profile audit]\nregion=ap-northeast-3\n\
                          endpoint_url = http://127.0.0.1:9000\ns3 =\n  addressing_style = path\n";

    #[test]
    fn profiles_from_both_files() {
        let d = parse("default", CREDS, CONFIG);
        assert_eq!(d.access_key_id.as_deref(), Some("AKIDDEFAULT"));
        assert_eq!(d.region.as_deref(), Some("ap-northeast-1"));
        assert_eq!(d.endpoint_url, None);
        let a = parse("audit", CREDS, CONFIG);
        assert_eq!(a.access_key_id.as_deref(), Some("AKIDAUDIT"));
        assert_eq!(a.session_token.as_deref(), Some("t2"));
        assert_eq!(a.region.as_deref(), Some("ap-northeast-3"));
        assert_eq!(a.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(parse("nope", CREDS, CONFIG), Profile::default());
    }

    #[test]
    fn keys_may_live_in_the_config_file() {
        let p = parse(
            "x",
            "",
            "[profile x]\naws_access_key_id = K\naws_secret_access_key = S\n",
        );
        assert_eq!(p.access_key_id.as_deref(), Some("K"));
        assert_eq!(p.secret_access_key.as_deref(), Some("S"));
    }
}
