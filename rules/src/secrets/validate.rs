//! Offline checks on a candidate secret: checksums where the format has one, Shannon entropy,
//! and placeholder text people write instead of a real value.

use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use base64::Engine as _;
use memchr::memmem;

/// A checksum or structure a candidate must pass to be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub tokens: 30 base62 payload characters then their CRC32 in 6 base62 digits.
    Github,
    /// npm tokens: same scheme as GitHub's.
    Npm,
    /// JSON Web Tokens: header and payload decode to JSON objects; the header names `alg`.
    Jwt,
    /// PyPI API tokens: a base64url macaroon naming `pypi.org`.
    Pypi,
    /// PEM blocks: the body between BEGIN and END decodes as base64.
    Pem,
}

impl Checksum {
    pub const NAMES: [&'static str; 5] = ["github", "npm", "jwt", "pypi", "pem"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "github" => Some(Checksum::Github),
            "npm" => Some(Checksum::Npm),
            "jwt" => Some(Checksum::Jwt),
            "pypi" => Some(Checksum::Pypi),
            "pem" => Some(Checksum::Pem),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Checksum::Github => "github",
            Checksum::Npm => "npm",
            Checksum::Jwt => "jwt",
            Checksum::Pypi => "pypi",
            Checksum::Pem => "pem",
        }
    }

    /// True when `secret` passes.
    pub fn accepts(self, secret: &[u8]) -> bool {
        match self {
            Checksum::Github | Checksum::Npm => crc32_base62(secret),
            Checksum::Jwt => jwt(secret),
            Checksum::Pypi => pypi(secret),
            Checksum::Pem => pem(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base62, left-padded with `0` to `width` digits.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut digits = Vec::with_capacity(width);
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

/// The 6-character check a GitHub or npm token ends with, for a 30-character payload.
pub fn crc32_check(payload: &[u8]) -> String {
    base62(u64::from(crc32fast::hash(payload)), 6)
}

fn crc32_base62(secret: &[u8]) -> bool {
    let body = match memchr::memrchr(b'_', secret) {
        Some(i) => &secret[i + 1..],
        None => secret,
    };
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    crc32_check(&body[..30]).as_bytes() == &body[30..]
}

fn json_object(part: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = URL_SAFE_PAD_INDIFFERENT.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if signature.is_empty() {
        return false;
    }
    let Some(header) = json_object(header) else {
        return false;
    };
    header.contains_key("alg") && json_object(payload).is_some()
}

fn pypi(secret: &[u8]) -> bool {
    let Some(body) = secret.strip_prefix(b"pypi-") else {
        return false;
    };
    URL_SAFE_PAD_INDIFFERENT
        .decode(body)
        .is_ok_and(|macaroon| memmem::find(&macaroon, b"pypi.org").is_some())
}

fn pem(secret: &[u8]) -> bool {
    let Some(begin) = memmem::find(secret, b"-----BEGIN ") else {
        return false;
    };
    let after_begin = &secret[begin + 11..];
    let Some(open_end) = memmem::find(after_begin, b"-----") else {
        return false;
    };
    let body_start = &after_begin[open_end + 5..];
    let Some(end) = memmem::find(body_start, b"-----END ") else {
        return false;
    };
    let mut body = Vec::with_capacity(end);
    for line in body_start[..end].split(|&b| b == b'\n') {
        // RFC 1421 headers (`Proc-Type: …`) sit before the base64.
        if line.contains(&b':') {
            continue;
        }
        body.extend(
            line.iter()
                .filter(|b| !b.is_ascii_whitespace() && **b != b'\\'),
        );
    }
    // Keys pasted into strings carry literal `\n`: drop the `n` each left behind.
    let cleaned: Vec<u8> = if secret.windows(2).any(|w| w == b"\\n") {
        let mut out = Vec::with_capacity(end);
        for line in body_start[..end].split(|&b| b == b'\n') {
            for piece in line.split(|&b| b == b'\\') {
                let piece = piece.strip_prefix(b"n").unwrap_or(piece);
                if !piece.contains(&b':') {
                    out.extend(piece.iter().filter(|b| !b.is_ascii_whitespace()));
                }
            }
        }
        out
    } else {
        body
    };
    cleaned.len() >= 16 && STANDARD_PAD_INDIFFERENT.decode(&cleaned).is_ok()
}

/// Shannon entropy of `bytes`, in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// True when `secret` looks machine-generated rather than written by a person: it mixes letters
/// and digits and is not mostly made of word-like pieces (`MyServiceToken`, `argon2id-with-defaults`).
pub fn looks_random(secret: &[u8]) -> bool {
    let digits = secret.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = secret.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if digits == 0 || letters == 0 {
        return false;
    }
    // Split at separators and at lower→upper case changes; count bytes in word-like pieces.
    let mut wordy = 0usize;
    let mut piece: Vec<u8> = Vec::new();
    let mut flush = |piece: &mut Vec<u8>| {
        if piece.len() >= 4 && piece.iter().all(u8::is_ascii_alphabetic) {
            let vowels = piece.iter().filter(|b| b"aeiouAEIOU".contains(b)).count();
            let ratio = vowels as f64 / piece.len() as f64;
            if (0.2..=0.6).contains(&ratio) {
                wordy += piece.len();
            }
        }
        piece.clear();
    };
    // Letters next to digits: a generated string switches often; a word and a number
    // (`Summer2024`, `Password123`) once or twice, and then the word is a piece of its own.
    let switches = secret
        .windows(2)
        .filter(|w| {
            w[0].is_ascii_alphanumeric()
                && w[1].is_ascii_alphanumeric()
                && w[0].is_ascii_digit() != w[1].is_ascii_digit()
        })
        .count();
    let split_digits = switches <= 2;
    for (i, &b) in secret.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| secret[j]);
        let boundary = !b.is_ascii_alphanumeric()
            || (b.is_ascii_uppercase() && prev.is_some_and(|p| p.is_ascii_lowercase()))
            || (split_digits
                && prev.is_some_and(|p| {
                    p.is_ascii_alphanumeric() && p.is_ascii_digit() != b.is_ascii_digit()
                }));
        if boundary {
            flush(&mut piece);
        }
        if b.is_ascii_alphanumeric() {
            piece.push(b);
        }
    }
    flush(&mut piece);
    wordy * 10 < secret.len() * 4
}

/// Words that mark a value as a stand-in, not a credential (compared lowercase).
const PLACEHOLDER_WORDS: [&str; 20] = [
    "example",
    "xxxx",
    "****",
    "${",
    "{{",
    "your_",
    "your-",
    "yourapi",
    "yourtoken",
    "placeholder",
    "changeme",
    "change_me",
    "replace_me",
    "replaceme",
    "dummy",
    "redacted",
    "insert_",
    "sample",
    "...",
    "\u{2026}",
];

/// A `<name>` placeholder anywhere (`<token>`, `<YOUR API KEY>`, `<project-id>`): angle brackets
/// around letters, digits, spaces, `_`, `-` and `.` only. Random values (WordPress salts) may
/// hold `<` and `>` with other bytes between them.
fn has_angle_placeholder(lower: &[u8]) -> bool {
    lower.iter().enumerate().any(|(i, &b)| {
        b == b'<'
            && lower[i + 1..]
                .iter()
                .position(|&c| c == b'>')
                .is_some_and(|n| {
                    n > 0
                        && lower[i + 1..i + 1 + n]
                            .iter()
                            .all(|c| c.is_ascii_alphanumeric() || b" _-.".contains(c))
                })
    })
}

/// True for a reference to a variable rather than a value: `$NAME`, `$(cmd)`, `$env:NAME`,
/// `%NAME%`, `%(name)s`, `%s`. A random value that merely starts with `$` or `%` (as some
/// generated Django or Rails keys do) is not one.
fn is_variable_reference(secret: &[u8]) -> bool {
    let ident = |s: &[u8]| {
        s.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    match secret {
        [b'$', b'(' | b'{', ..] | [b'%', b'(', ..] => true,
        [b'$', rest @ ..] => {
            ident(rest)
                || rest
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"env:"))
        }
        [b'%', rest @ .., b'%'] => ident(rest),
        [b'%', rest @ ..] => rest.len() <= 2,
        _ => false,
    }
}

/// True when `secret` looks like a placeholder: `EXAMPLE`, `xxxx`, `${VAR}`, `<token>`,
/// `your_api_key`, a long run of one character, or a counting sequence.
pub fn is_placeholder(secret: &[u8], multiline: bool) -> bool {
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memmem::find(&lower, w.as_bytes()).is_some())
    {
        return true;
    }
    if is_variable_reference(secret) || has_angle_placeholder(&lower) {
        return true;
    }
    if multiline {
        // Key bodies legitimately hold runs (`AAAA` in DER padding).
        return false;
    }
    for seq in ["abcdefgh", "12345678", "qwertyui"] {
        if memmem::find(&lower, seq.as_bytes()).is_some() {
            return true;
        }
    }
    let mut run = 1;
    for w in lower.windows(2) {
        if w[0] == w[1] && w[0].is_ascii_alphanumeric() {
            run += 1;
            if run >= 6 {
                return true;
            }
        } else {
            run = 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_token(prefix: &str, payload: &str) -> String {
        format!("{prefix}{payload}{}", crc32_check(payload.as_bytes()))
    }

    #[test]
    fn checksums() {
        let payload = "Zq8Rk2Lw0Pn5Vt7Xc3Bd9Hf1Jm4Ns6";
        let good = github_token("ghp_", payload);
        let mut bad = good.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        let jwt_ok = format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_PAD_INDIFFERENT
                .encode(r#"{"alg":"HS256","typ":"JWT"}"#)
                .trim_end_matches('='),
            URL_SAFE_PAD_INDIFFERENT
                .encode(r#"{"sub":"1"}"#)
                .trim_end_matches('=')
        );
        let jwt_no_alg = format!(
            "{}.{}.c2ln",
            URL_SAFE_PAD_INDIFFERENT.encode(r#"{"typ":"JWT"}"#),
            URL_SAFE_PAD_INDIFFERENT.encode(r#"{"sub":"1"}"#)
        );
        let pypi_ok = format!(
            "pypi-{}",
            URL_SAFE_PAD_INDIFFERENT.encode(b"\x02\x01\x08pypi.org\x02\x01identifier")
        );
        let pypi_bad = format!("pypi-{}", URL_SAFE_PAD_INDIFFERENT.encode(b"\x02\x01other"));
        let pem_ok = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";
        let pem_bad = "-----BEGIN RSA PRIVATE KEY-----\n!!!! not base64 at all !!!!\n-----END RSA PRIVATE KEY-----";
        let cases: Vec<(&str, Checksum, &[u8], bool)> = vec![
            ("github good", Checksum::Github, good.as_bytes(), true),
            ("github bad check", Checksum::Github, &bad, false),
            ("github short", Checksum::Github, b"ghp_abc", false),
            (
                "npm good",
                Checksum::Npm,
                github_token("npm_", payload).as_bytes().to_vec().leak(),
                true,
            ),
            ("jwt good", Checksum::Jwt, jwt_ok.as_bytes(), true),
            ("jwt no alg", Checksum::Jwt, jwt_no_alg.as_bytes(), false),
            (
                "jwt two parts",
                Checksum::Jwt,
                b"eyJhbGciOiJub25lIn0.eyJ9",
                false,
            ),
            ("pypi good", Checksum::Pypi, pypi_ok.as_bytes(), true),
            (
                "pypi other location",
                Checksum::Pypi,
                pypi_bad.as_bytes(),
                false,
            ),
            ("pem good", Checksum::Pem, pem_ok.as_bytes(), true),
            ("pem bad body", Checksum::Pem, pem_bad.as_bytes(), false),
        ];
        for (name, checksum, secret, expected) in cases {
            assert_eq!(checksum.accepts(secret), expected, "{name}");
        }
    }

    #[test]
    fn placeholders() {
        let cases: [(&str, &str, bool); 18] = [
            ("upper example", "AKIAIOSFODNN7EXAMPLE", true),
            ("x run", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true),
            ("env var", "${GITHUB_TOKEN}", true),
            ("angle", "<token>", true),
            ("your key", "your_api_key_here", true),
            ("counting", "sk_live_1234567890abcdef", true),
            ("repeat", "Ab0000000000cD", true),
            ("random", "Zq8Rk2Lw0Pn5Vt7Xc3Bd9Hf1Jm4Ns6", false),
            ("dollar start", "$TOKEN", true),
            ("command", "$(cat /run/secrets/token)", true),
            ("powershell", "$env:API_TOKEN", true),
            ("windows var", "%API_TOKEN%", true),
            ("python format", "%(password)s", true),
            ("printf", "%s", true),
            ("generated key with dollar", "$k9#Qz!2vL@x8Rw&5Tn*Mc", false),
            ("generated key with percent", "%7Hq!xP2$zR9m#Lw4", false),
            ("angle words", "prefix-<YOUR API KEY>", true),
            (
                "salt with brackets",
                "}fH?;OJMa|{>idDn8?7XG3@q@x<bM;t",
                false,
            ),
        ];
        for (name, secret, expected) in cases {
            assert_eq!(is_placeholder(secret.as_bytes(), false), expected, "{name}");
        }
    }

    #[test]
    fn randomness() {
        let cases = [
            ("camel words", "MyServiceAuthenticationTokenName", false),
            ("kebab words", "argon2id-with-defaults-v19", false),
            ("no digit", "bFcjUcWESBvHPBwmxJeZyqZUsGVuPwzL", false),
            ("random", "0Dqws9q85MHdjX6uUiT5zlbY", true),
            ("word and year", "Summer2024", false),
            ("word and digits", "Password123456", false),
            ("hex", "a4c123b1612dd272d1371c17149d4395", true),
            ("short random", "gHV7iB3m03nbqn", true),
        ];
        for (name, s, expected) in cases {
            assert_eq!(looks_random(s.as_bytes()), expected, "{name}");
        }
        // Generated base62 strings of 24 to 40 characters nearly always look random.
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut passed = 0;
        for n in 0..1000 {
            let len = 24 + n % 17;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % 62) as usize]
                })
                .collect();
            passed += usize::from(looks_random(&s));
        }
        assert!(passed >= 960, "{passed} of 1000 random strings passed");
    }

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
