//! `--destination` (SPEC §9): where the scanned data is going. A destination outside Japan adds
//! a cross-border notice to the summary: providing personal data to a third party in a foreign
//! country needs the person's consent or an equivalent system (APPI Art. 28).

use serde::Serialize;
use std::collections::BTreeMap;

const REGIONS: &str = include_str!("../patterns/regions.toml");

/// The summary's `destination` object (an extension of SPEC §4).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Destination {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 country code, `multi` (a multi-country location) or `unknown`.
    pub country: String,
    /// `true` outside Japan, `false` in Japan, `null` when unknown.
    pub outside_japan: Option<bool>,
    /// The cross-border notice, when the destination is or may be outside Japan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

fn region_table() -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
    Ok(toml::from_str(REGIONS)?)
}

/// Resolves `--destination` and `--destination-region`.
pub fn resolve(url: &str, region: Option<&str>) -> anyhow::Result<Destination> {
    let url = url.trim();
    anyhow::ensure!(!url.is_empty(), "--destination is empty");
    let provider = if url.starts_with("s3://") {
        Some("aws")
    } else if url.starts_with("gs://") {
        Some("gcp")
    } else if url.starts_with("az://") || url.starts_with("abfs://") || url.contains(".blob.core.windows.net") {
        Some("azure")
    } else {
        None
    };
    let country = match (provider, region) {
        (None, _) => {
            anyhow::ensure!(
                url.len() == 2 && url.chars().all(|c| c.is_ascii_alphabetic()),
                "--destination: a bucket URL (s3://, gs://, az://) or a two-letter country code, not {url:?}"
            );
            url.to_ascii_uppercase()
        }
        (Some(p), Some(r)) => {
            let table = region_table()?;
            let r = r.trim().to_ascii_lowercase();
            table
                .get(p)
                .and_then(|m| m.get(&r))
                .cloned()
                .unwrap_or_else(|| "unknown".into())
        }
        (Some(_), None) => "unknown".into(),
    };
    let outside = match country.as_str() {
        "JP" => Some(false),
        "unknown" => None,
        _ => Some(true),
    };
    let notice = match outside {
        Some(false) => None,
        Some(true) => Some(format!(
            "越境移転の注意: 送信先 ({country}) は日本国外です。外国にある第三者に個人データを提供するには、本人の同意、\
             または基準に適合する体制の整備等が必要です（個人情報保護法28条）。 / Cross-border notice: the destination \
             ({country}) is outside Japan. Providing personal data to a third party in a foreign country needs the \
             person's consent or an equivalent system (APPI Art. 28)."
        )),
        None => Some(
            "越境移転の注意: 送信先の所在国が不明です（--destination-region を指定してください）。日本国外であれば個人情報\
             保護法28条が適用されます。 / Cross-border notice: the destination's country is unknown (give \
             --destination-region). If it is outside Japan, APPI Art. 28 applies."
                .to_string(),
        ),
    };
    Ok(Destination {
        url: url.to_string(),
        region: region.map(|r| r.trim().to_string()),
        country,
        outside_japan: outside,
        notice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        let d = resolve("s3://bucket", Some("ap-northeast-1")).unwrap();
        assert_eq!(d.outside_japan, Some(false));
        assert!(d.notice.is_none());
        let d = resolve("s3://bucket/prefix", Some("us-east-1")).unwrap();
        assert_eq!((d.country.as_str(), d.outside_japan), ("US", Some(true)));
        assert!(d.notice.unwrap().contains("28"));
        let d = resolve("gs://b", Some("asia-northeast1")).unwrap();
        assert_eq!(d.outside_japan, Some(false));
        let d = resolve("gs://b", Some("asia")).unwrap();
        assert_eq!(d.outside_japan, Some(true));
        let d = resolve("s3://b", None).unwrap();
        assert_eq!(d.outside_japan, None);
        assert_eq!(resolve("jp", None).unwrap().outside_japan, Some(false));
        assert_eq!(resolve("SG", None).unwrap().country, "SG");
        assert!(resolve("ftp://x", None).is_err());
    }
}
