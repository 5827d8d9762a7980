//! Key fingerprints as people write them and as vouch compares them.
//!
//! SSH keys are named `SHA256:…` (ssh-keygen's form, case-sensitive base64); OpenPGP keys by
//! hex fingerprint or key id, written with or without `0x`, spaces or lower case. Every
//! comparison goes through [`normalize`], so the policy, `vouch keys` and the judge agree.

/// The canonical form of a fingerprint: `SHA256:…` as written, OpenPGP hex upper-cased with
/// `0x` and white space removed.
pub fn normalize(fp: &str) -> String {
    let fp = fp.trim();
    if fp.starts_with("SHA256:") {
        return fp.to_string();
    }
    fp.trim_start_matches("0x")
        .trim_start_matches("0X")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// `Some(canonical)` when `text` reads as a fingerprint or key id: `SHA256:…`, or at least 16
/// hex digits (an OpenPGP key id or fingerprint).
pub fn parse(text: &str) -> Option<String> {
    let fp = normalize(text);
    if fp.starts_with("SHA256:") && fp.len() > "SHA256:".len() {
        return Some(fp);
    }
    (fp.len() >= 16 && fp.chars().all(|c| c.is_ascii_hexdigit())).then_some(fp)
}

/// True when `listed` (as written in the policy) names one of `fingerprints` (canonical). An
/// OpenPGP key id (the last 16 hex digits) names the key whose fingerprint ends with it.
pub fn names_any(listed: &str, fingerprints: &[&str]) -> bool {
    let l = normalize(listed);
    fingerprints.iter().any(|f| {
        *f == l || (!l.starts_with("SHA256:") && l.len() == 16 && f.len() > 16 && f.ends_with(&l))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_agree() {
        let fp = "AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12";
        for written in [
            fp,
            "0xab12cd34ef56ab12cd34ef56ab12cd34ef56ab12",
            "AB12 CD34 EF56 AB12 CD34  EF56 AB12 CD34 EF56 AB12",
            " ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12\n",
        ] {
            assert_eq!(normalize(written), fp, "{written:?}");
            assert!(names_any(written, &[fp]));
        }
        // A fragment that is neither the fingerprint nor the key id names nothing.
        assert!(!names_any("CD34EF56AB12CD34EF56AB12", &[fp]));
        assert!(!names_any("AB12CD34EF56AB13", &[fp]));
    }

    #[test]
    fn key_ids_name_their_key() {
        let fp = "0123456789ABCDEF0123456789ABCDEF01234567";
        assert!(names_any("89abcdef01234567", &[fp]));
        assert!(!names_any("89abcdef01234568", &[fp]));
    }

    #[test]
    fn ssh_fingerprints_stay_case_sensitive() {
        let fp = "SHA256:AbCdEf";
        assert!(names_any("SHA256:AbCdEf", &[fp]));
        assert!(!names_any("SHA256:abcdef", &[fp]));
        assert_eq!(parse("SHA256:"), None);
        assert_eq!(parse("not a key"), None);
        assert_eq!(
            parse("0x0123456789abcdef").as_deref(),
            Some("0123456789ABCDEF")
        );
    }
}
