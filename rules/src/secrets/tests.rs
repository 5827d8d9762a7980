//! Unit tests of the engine: built-in rules' own examples, windows, streaming, allows, redaction.

use super::*;

#[test]
fn builtin_rules_pass_their_examples() {
    let rules = builtin::parse(rule::Compile::Now).unwrap();
    let rules: Vec<Arc<Rule>> = rules.into_iter().map(Arc::new).collect();
    let failures = test_rules(&rules);
    assert!(failures.is_empty(), "{failures:#?}");
}

fn custom(text: &str) -> Scanner {
    let rules = parse_file(text, "test.toml").unwrap();
    Scanner::new(rules, Settings::everything()).unwrap()
}

const SHORT_KEYWORD: &str = r#"[[rule]]
id = "short"
description = "two-byte keyword"
provider = "Test"
keywords = ["q9"]
regex = '''\b(q9[a-z0-9]{20})\b'''
confidence = "high"
examples = ["q9ab12cd34ef56gh78ij90"]
"#;

#[test]
fn both_prefilters_find_the_same_things() {
    // A one-byte keyword forces the automaton; two bytes and more use the bigram bitmaps.
    let text = b"a Q9ab12cd34ef56gh78ij90 b\nq9ab12cd34ef56gh78ij91\nx q9ab12cd34ef56gh78ij92";
    for keyword in ["q9", "9"] {
        let scanner = custom(&SHORT_KEYWORD.replace("[\"q9\"]", &format!("[\"{keyword}\"]")));
        let lines: Vec<u32> = scanner
            .scan_bytes(text, 1)
            .matches
            .iter()
            .map(|m| m.line)
            .collect();
        assert_eq!(
            lines,
            vec![2, 3],
            "keyword {keyword:?}: the regex is case-sensitive"
        );
        assert!(test_rules(scanner.rules()).is_empty());
    }
}

#[test]
fn streaming_finds_secrets_across_chunk_boundaries() {
    let token = {
        let payload = "Zq8Rk2Lw0Pn5Vt7Xc3Bd9Hf1Jm4Ns6";
        format!("ghp_{payload}{}", validate::crc32_check(payload.as_bytes()))
    };
    let scanner = load(&crate::policy::Policy::builtin()).unwrap();
    // Place the token at many offsets around the 8 MiB chunk edge (minus the overlap kept).
    let chunk = 8 * 1024 * 1024;
    for shift in [0usize, 1, 20, 39, 40, 41, 70_000, 90_000] {
        let mut text = b"line\n".repeat((chunk - 80 * 1024 - shift) / 5);
        let line = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        text.extend_from_slice(token.as_bytes());
        text.extend_from_slice(b"\nafter\n");
        text.extend(b"more\n".repeat(300_000));
        let FileScan::Scanned(scan) = scanner
            .scan_reader(text.as_slice(), &mut Vec::new())
            .unwrap()
        else {
            panic!("not scanned");
        };
        let found: Vec<u32> = scan.matches.iter().map(|m| m.line).collect();
        assert_eq!(found, vec![line], "shift {shift}");
        assert_eq!(scan.bytes, text.len() as u64);
    }
}

#[test]
fn redaction_shows_less_of_shorter_secrets() {
    let cases = [
        (
            "long",
            "ghp_0123456789abcdefghij",
            "ghp_\u{2026} (24 chars)",
        ),
        ("medium", "Xk29fLq0Zr", "Xk\u{2026} (10 chars)"),
        ("short", "hunter2", "\u{2026} (7 chars)"),
        (
            "control bytes",
            "\u{1b}[31mZZZZZZZZZZZZZZ",
            "?[31\u{2026} (19 chars)",
        ),
    ];
    for (name, secret, expected) in cases {
        assert_eq!(engine::redact(secret.as_bytes()), expected, "{name}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn scanner() -> &'static Scanner {
        static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
        SCANNER.get_or_init(|| {
            Scanner::new(builtin::rules().unwrap().to_vec(), Settings::everything()).unwrap()
        })
    }

    /// Pieces that exercise the engine: keywords, separators, a valid token, noise.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        let payload = "Zq8Rk2Lw0Pn5Vt7Xc3Bd9Hf1Jm4Ns6";
        let token = format!("ghp_{payload}{}", validate::crc32_check(payload.as_bytes()));
        prop_oneof![
            Just(token.into_bytes()),
            Just(b"ghp_".to_vec()),
            Just(b"token = \"".to_vec()),
            Just(b"-----BEGIN RSA PRIVATE KEY-----\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b" vouch:allow ".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The engine never panics, reports lines inside the input, and finds the same secrets
        /// whether the bytes are in memory or streamed.
        #[test]
        fn in_memory_and_streamed_agree(pieces in proptest::collection::vec(piece(), 0..40)) {
            let data: Vec<u8> = pieces.concat();
            let scanner = scanner();
            let direct = scanner.scan_bytes(&data, 1);
            let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            for m in &direct.matches {
                prop_assert!(m.line >= 1 && m.line <= lines);
                prop_assert!(!m.redacted().is_empty());
            }
            match scanner.scan_reader(data.as_slice(), &mut Vec::new()).unwrap() {
                FileScan::Scanned(streamed) => {
                    let a: Vec<(u32, u32)> = direct.matches.iter().map(|m| (m.line, m.column)).collect();
                    let b: Vec<(u32, u32)> = streamed.matches.iter().map(|m| (m.line, m.column)).collect();
                    prop_assert_eq!(a, b);
                }
                FileScan::Binary => prop_assert!(engine::is_binary(&data)),
                FileScan::TooLarge { .. } => prop_assert!(false, "no size limit was set"),
            }
        }
    }
}
