//! The hook scripts vouch installs: tiny `sh` shims that call the `vouch` binary by the absolute
//! path recorded at install time (GUI git clients run hooks with a minimal PATH), fall back to PATH,
//! and chain to a hook that was there before.

/// The first line after the shebang of every hook vouch writes; how vouch recognises its own.
pub const MARKER: &str = "# vouch-managed-hook v1";

/// The suffix an existing hook is renamed to when vouch wraps it.
pub const CHAINED_SUFFIX: &str = ".vouch-chained";

/// Hooks whose standard input carries data that both the chained hook and vouch must read.
fn reads_stdin(hook: &str) -> bool {
    matches!(
        hook,
        "pre-push" | "pre-receive" | "post-receive" | "post-rewrite" | "reference-transaction"
    )
}

/// Quote `s` for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The script for `hook`, calling the binary at `binary`.
pub fn script(hook: &str, binary: &str) -> String {
    let quoted_bin = sh_quote(binary);
    let quoted_hook = sh_quote(hook);
    let chained = sh_quote(&format!("{hook}{CHAINED_SUFFIX}"));
    let (capture, feed) = if reads_stdin(hook) {
        (
            "input=$(cat; echo x)\ninput=${input%x}\n",
            "printf '%s' \"$input\" | ",
        )
    } else {
        ("", "")
    };
    format!(
        r#"#!/bin/sh
{MARKER}: installed by `vouch install`; `vouch uninstall` removes it and restores any hook it wraps.
vouch={quoted_bin}
if [ ! -x "$vouch" ]; then
  if command -v vouch >/dev/null 2>&1; then
    vouch=vouch
  else
    echo "vouch: the "{quoted_hook}" hook cannot run: no vouch at "{quoted_bin}" nor on PATH" >&2
    echo "  fix: reinstall vouch (./install.sh), then run 'vouch install' again; or 'vouch uninstall' to remove the hook" >&2
    exit 2
  fi
fi
{capture}chained="${{0%/*}}/"{chained}
if [ -x "$chained" ]; then
  {feed}"$chained" "$@" || exit $?
fi
{feed}exec "$vouch" hook {quoted_hook} "$@"
"#
    )
}

/// True when `content` is a hook script vouch wrote.
pub fn is_ours(content: &[u8]) -> bool {
    content
        .split(|&b| b == b'\n')
        .nth(1)
        .is_some_and(|line| line.starts_with(MARKER.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_odd_paths() {
        assert_eq!(sh_quote("/a b/it's"), r"'/a b/it'\''s'");
        let s = script("pre-push", "/opt/it's here/vouch");
        assert!(is_ours(s.as_bytes()));
        assert!(s.contains(r"vouch='/opt/it'\''s here/vouch'"));
        assert!(s.contains("input=$(cat; echo x)"));
        assert!(!script("pre-commit", "/v").contains("input="));
        assert!(!is_ours(b"#!/bin/sh\necho hi\n"));
    }
}
