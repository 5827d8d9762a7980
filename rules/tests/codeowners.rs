//! CODEOWNERS semantics: GitHub's documented examples and every edge of the pattern syntax.

use vouch_rules::codeowners::{CodeOwners, ErrorKind, OwnerKind, Pattern, MAX_BYTES};
use vouch_rules::policy::{Origin, Policy, PolicyError, PolicyFiles};

/// Who owns `path` under `text`: the owners as written, or `None` when no line matches.
fn owners(text: &str, path: &str) -> Option<Vec<String>> {
    let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", text);
    file.decide(path)
        .map(|d| d.owners().iter().map(|o| o.text.clone()).collect())
}

/// GitHub's documented example file (written from the documented semantics).
const GITHUB_EXAMPLE: &str = r"# These owners are the default owners for everything in the repo.
*       @global-owner1 @global-owner2

# The last matching pattern takes precedence.
*.js    @js-owner #This is an inline comment.

*.go docs@example.com

*.txt @octo-org/octocats

/build/logs/ @doctocat

# `docs/*` matches docs/getting-started.md but not docs/build-app/troubleshooting.md.
docs/* docs@example.com

apps/ @octocat

/docs/ @doctocat

/scripts/ @doctocat @octocat

**/logs @octocat

/apps/ @octocat
/apps/github
";

#[test]
fn githubs_documented_example() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "default owners",
            "README.md",
            &["@global-owner1", "@global-owner2"],
        ),
        (
            "default owners deep",
            "src/main.rs",
            &["@global-owner1", "@global-owner2"],
        ),
        ("js at any depth", "web/app/index.js", &["@js-owner"]),
        ("inline comment is not an owner", "index.js", &["@js-owner"]),
        ("email owner", "cmd/main.go", &["docs@example.com"]),
        ("team owner", "notes/todo.txt", &["@octo-org/octocats"]),
        // `/build/logs/` would give @doctocat, but the later `**/logs` line wins.
        ("later line wins", "build/logs/today.log", &["@octocat"]),
        (
            "later line wins deep",
            "build/logs/2026/11/today.log",
            &["@octocat"],
        ),
        ("**/logs at root", "logs/a.log", &["@octocat"]),
        ("**/logs nested", "deeply/nested/logs/a.log", &["@octocat"]),
        (
            "docs/* direct file is /docs/",
            "docs/getting-started.md",
            &["@doctocat"],
        ),
        ("apps/ anywhere", "web/apps/x.rb", &["@octocat"]),
        ("/apps/ root", "apps/x.rb", &["@octocat"]),
        ("/apps/github un-assigned", "apps/github/a.rb", &[]),
        ("/apps/github file itself un-assigned", "apps/github", &[]),
        (
            "scripts two owners",
            "scripts/deploy.sh",
            &["@doctocat", "@octocat"],
        ),
    ];
    for (name, path, want) in cases {
        let got = owners(GITHUB_EXAMPLE, path);
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, Some(want), "case {name}: {path}");
    }
    let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", GITHUB_EXAMPLE);
    assert!(file.errors().is_empty(), "{:?}", file.errors());
}

#[test]
fn docs_star_matches_direct_files_only() {
    let text = "docs/* @docs\n";
    assert_eq!(
        owners(text, "docs/getting-started.md"),
        Some(vec!["@docs".into()])
    );
    assert_eq!(owners(text, "docs/build-app/troubleshooting.md"), None);
    assert_eq!(
        owners(text, "sub/docs/a.md"),
        None,
        "docs/* is anchored (middle slash)"
    );
}

#[test]
fn pattern_table() {
    // (name, pattern, path, matches)
    let cases: &[(&str, &str, &str, bool)] = &[
        ("star is everything", "*", "a/b/c.txt", true),
        ("star root file", "*", "a", true),
        ("ext any depth", "*.rs", "a/b/c.rs", true),
        ("ext not suffix of other ext", "*.rs", "a/b/c.rsx", false),
        ("ext dir owns contents", "*.d", "conf.d/x", true),
        ("bare name any depth file", "Makefile", "a/b/Makefile", true),
        ("bare name any depth dir", "vendor", "x/vendor/lib.c", true),
        (
            "bare name is whole component",
            "vendor",
            "x/vendors/lib.c",
            false,
        ),
        ("leading slash anchors", "/vendor", "x/vendor/lib.c", false),
        ("leading slash root", "/vendor", "vendor/lib.c", true),
        (
            "middle slash anchors",
            "src/vendor",
            "x/src/vendor/a",
            false,
        ),
        ("middle slash root", "src/vendor", "src/vendor/a", true),
        ("trailing slash dir any depth", "logs/", "a/logs/x", true),
        ("trailing slash not a file", "logs/", "a/logs", false),
        (
            "anchored trailing slash",
            "/build/logs/",
            "build/logs/x/y",
            true,
        ),
        (
            "anchored trailing slash elsewhere",
            "/build/logs/",
            "x/build/logs/y",
            false,
        ),
        ("star does not cross slash", "src/*.c", "src/a/b.c", false),
        ("star in dir", "src/*.c", "src/b.c", true),
        ("star segment middle", "src/*/test", "src/a/test/x", true),
        (
            "star segment one level",
            "src/*/test",
            "src/a/b/test",
            false,
        ),
        ("dir/* direct only", "src/*", "src/a/b", false),
        ("root /* direct only", "/*", "a", true),
        ("root /* not nested", "/*", "a/b", false),
        ("question one char", "file?.txt", "file1.txt", true),
        ("question not two", "file?.txt", "file12.txt", false),
        ("question not slash", "a?b", "a/b", false),
        ("double star leading", "**/foo", "foo", true),
        ("double star leading deep", "**/foo", "a/b/foo/c", true),
        ("double star middle zero", "a/**/b", "a/b", true),
        ("double star middle many", "a/**/b", "a/x/y/b", true),
        ("double star middle not prefix", "a/**/b", "c/a/x/b", false),
        ("double star trailing", "a/**", "a/x/y", true),
        ("double star trailing not self", "a/**", "a", false),
        ("double star alone", "**", "x/y", true),
        ("double star in segment is star", "a**b", "axxb", true),
        ("double star in segment no cross", "a**b", "ax/xb", false),
        ("case sensitive", "*.MD", "readme.md", false),
        ("escaped space", r"my\ file.txt", "my file.txt", true),
        ("escaped hash", r"\#notes", "#notes", true),
        ("escaped star is literal", r"a\*b", "a*b", true),
        ("escaped star not wild", r"a\*b", "axb", false),
        ("unicode name", "données/", "données/x", true),
        ("dot is literal", "a.b", "axb", false),
    ];
    for (name, pattern, path, want) in cases {
        let p = Pattern::new(pattern).unwrap_or_else(|e| panic!("case {name}: {e:?}"));
        assert_eq!(p.matches(path), *want, "case {name}: {pattern} ~ {path}");
        // The indexed lookup must agree with the pattern alone.
        let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", &format!("{pattern} @o\n"));
        assert_eq!(file.decide(path).is_some(), *want, "case {name} (indexed)");
    }
}

#[test]
fn last_matching_line_wins_and_empty_owners_unassign() {
    let text = "* @all\n/src/ @src\n/src/gen/\n*.md @docs\n";
    assert_eq!(owners(text, "src/main.rs"), Some(vec!["@src".into()]));
    assert_eq!(owners(text, "src/gen/out.rs"), Some(vec![]));
    assert_eq!(
        owners(text, "src/gen/README.md"),
        Some(vec!["@docs".into()])
    );
    assert_eq!(owners(text, "Cargo.toml"), Some(vec!["@all".into()]));
    let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", text);
    assert_eq!(file.decide("src/gen/out.rs").unwrap().rule.line, 3);
    assert!(file.owners_of("src/gen/out.rs").is_empty());
}

#[test]
fn comments_blank_lines_and_owner_kinds() {
    let text = "# comment\n\n   \n*.rs @rust-devs @org/team-a dev@example.com # trailing\n\t# indented comment\r\n";
    let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", text);
    assert!(file.errors().is_empty(), "{:?}", file.errors());
    assert_eq!(file.rules().len(), 1);
    let kinds: Vec<OwnerKind> = file.rules()[0].owners.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [OwnerKind::User, OwnerKind::Team, OwnerKind::Email]);
    assert_eq!(file.rules()[0].line, 4);
}

#[test]
fn invalid_lines_are_skipped_and_reported() {
    // (name, line, kind, column)
    let cases: &[(&str, &str, ErrorKind, u32)] = &[
        ("negation", "!*.js @a", ErrorKind::UnsupportedSyntax, 1),
        ("range", "*.[ch] @a", ErrorKind::UnsupportedSyntax, 1),
        ("bare slash", "/ @a", ErrorKind::InvalidPattern, 1),
        ("triple star", "***/*.rb @a", ErrorKind::InvalidPattern, 1),
        ("empty segment", "a//b @a", ErrorKind::InvalidPattern, 1),
        ("owner without @", "*.txt user", ErrorKind::InvalidOwner, 7),
        (
            "owner half email",
            "*.txt docs@",
            ErrorKind::InvalidOwner,
            7,
        ),
        (
            "team without slug",
            "*.txt @org/",
            ErrorKind::InvalidOwner,
            7,
        ),
        (
            "login with bad chars",
            "*.txt @bad!name",
            ErrorKind::InvalidOwner,
            7,
        ),
    ];
    for (name, line, kind, column) in cases {
        let text = format!("* @fallback\n{line}\n");
        let file = CodeOwners::parse(".github/CODEOWNERS", ".github/CODEOWNERS", &text);
        assert_eq!(file.errors().len(), 1, "case {name}: {:?}", file.errors());
        let e = &file.errors()[0];
        assert_eq!(
            (e.kind, e.line, e.column),
            (*kind, 2, *column),
            "case {name}"
        );
        assert_eq!(e.source, *line, "case {name}");
        assert_eq!(e.path, ".github/CODEOWNERS");
        assert_eq!(
            file.rules().len(),
            1,
            "case {name}: the bad line is skipped"
        );
    }
    let file = CodeOwners::parse("C", "C", "***/*.rb @a");
    assert_eq!(
        file.errors()[0].suggestion.as_deref(),
        Some("Did you mean `**/*.rb`?")
    );
    let file = CodeOwners::parse("C", "C", "* user");
    assert_eq!(
        file.errors()[0].suggestion.as_deref(),
        Some("Did you mean `@user`?")
    );
}

#[test]
fn located_in_githubs_order_and_size_limited() {
    let mut files = PolicyFiles::new("refs/heads/main");
    assert!(CodeOwners::from_files(&files).unwrap().is_none());
    files.insert("docs/CODEOWNERS", b"* @docs-dir\n".to_vec());
    files.insert("CODEOWNERS", b"* @root\n".to_vec());
    let found = CodeOwners::from_files(&files).unwrap().unwrap();
    assert_eq!(found.path, "CODEOWNERS");
    files.insert(".github/CODEOWNERS", b"* @dot-github\n".to_vec());
    let found = CodeOwners::from_files(&files).unwrap().unwrap();
    assert_eq!(found.path, ".github/CODEOWNERS");
    assert_eq!(found.display, "refs/heads/main:.github/CODEOWNERS");
    assert_eq!(found.owners_of("x")[0].text, "@dot-github");

    let mut big = b"* @a\n".to_vec();
    big.resize(MAX_BYTES, b'#');
    files.insert(".github/CODEOWNERS", big);
    let err = CodeOwners::from_files(&files).unwrap_err().to_string();
    assert!(err.contains("3 MB"), "{err}");

    files.insert(".github/CODEOWNERS", b"* @a\n\xff @b\n".to_vec());
    let err = CodeOwners::from_files(&files).unwrap_err().to_string();
    assert!(err.contains(":2:1:") && err.contains("UTF-8"), "{err}");
}

#[test]
fn many_rules_index_agrees_with_a_linear_scan() {
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&match i % 6 {
            0 => format!("/src/mod{i}/ @team{i}\n"),
            1 => format!("*.ext{i} @ext{i}\n"),
            2 => format!("**/logs{i} @logs{i}\n"),
            3 => format!("docs/area{i}/* @docs{i}\n"),
            4 => format!("src/*/gen{i} @gen{i}\n"),
            _ => format!("*test{i}* @t{i}\n"),
        });
    }
    let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", &text);
    let paths = [
        "src/mod0/a.rs",
        "src/mod6/x/y.ext7",
        "x/logs2/a",
        "docs/area3/a.md",
        "docs/area3/sub/a.md",
        "src/k/gen4/z",
        "a/b/mytest5file",
        "nothing/here",
    ];
    for path in paths {
        let linear = file
            .rules()
            .iter()
            .rev()
            .find(|r| r.matches(path))
            .map(|r| r.line);
        assert_eq!(file.decide(path).map(|d| d.rule.line), linear, "{path}");
    }
}

#[test]
fn validate_files_reports_each_skipped_line_with_its_place() {
    let mut files = PolicyFiles::new("refs/heads/main");
    files.insert("CODEOWNERS", b"* @ok\n!x @a\n*.md docs@\n".to_vec());
    let policy = Policy::parse(
        "",
        ".vouch/policy.toml",
        Origin::BuiltIn,
        String::new(),
        files,
    )
    .expect("empty policy parses");
    let errors = vouch_rules::validate_files(&policy);
    let places: Vec<String> = errors
        .iter()
        .map(|e| match e {
            PolicyError::Invalid { at, .. } => at.to_string(),
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(
        places,
        [
            "refs/heads/main:CODEOWNERS:2:1",
            "refs/heads/main:CODEOWNERS:3:6"
        ]
    );
    assert!(
        errors[1].to_string().contains("Invalid owner"),
        "{}",
        errors[1]
    );
    assert!(errors[1].hint().is_some());
}
