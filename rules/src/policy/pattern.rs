//! Globs over ref names and paths: `*` stays within one `/`-separated part, `**` crosses parts,
//! `?` is one character. Compiled once to a regex.

use regex::Regex;

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    regex: Regex,
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Glob {
    /// Compile `pattern`; the error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() {
            return Err("the pattern is empty".into());
        }
        let mut re = String::from("^");
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    // `**/` matches zero or more whole parts; a trailing `**` matches the rest.
                    if chars.get(i + 2) == Some(&'/') {
                        re.push_str("(?:[^/]*/)*");
                        i += 3;
                    } else {
                        re.push_str(".*");
                        i += 2;
                    }
                    continue;
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                '[' | ']' => return Err("character classes (`[...]`) are not supported".into()),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
            i += 1;
        }
        re.push('$');
        let regex = Regex::new(&re).map_err(|e| e.to_string())?;
        Ok(Glob {
            text: pattern.to_string(),
            regex,
        })
    }

    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn table() {
        let cases = [
            ("main", "main", true),
            ("main", "mainline", false),
            ("release/*", "release/1.0", true),
            ("release/*", "release/1.0/hotfix", false),
            ("release/**", "release/1.0/hotfix", true),
            ("**/secret.txt", "secret.txt", true),
            ("**/secret.txt", "a/b/secret.txt", true),
            ("v?.*", "v1.2", true),
            ("refs/tags/v*", "refs/tags/v1.2.3", true),
            ("a.b", "axb", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(
                Glob::new(pattern).unwrap().matches(text),
                want,
                "{pattern} ~ {text}"
            );
        }
        assert!(Glob::new("").is_err());
        assert!(Glob::new("[ab]").is_err());
    }
}
