//! Times CODEOWNERS compilation and matching: a 5,000-line file and 100,000 paths, both
//! generated deterministically to look like a large monorepo. Run through
//! `scripts/bench-codeowners.sh` (release build).

use std::time::Instant;
use vouch_rules::codeowners::CodeOwners;

/// A small deterministic generator, so every run measures the same input.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const EXTS: [&str; 12] = [
    "rs", "go", "ts", "tsx", "py", "md", "json", "yaml", "c", "h", "java", "sql",
];

fn codeowners(lines: usize, rng: &mut Lcg) -> String {
    let mut text = String::from("# generated for the benchmark\n* @acme/everyone\n");
    for i in 1..lines {
        let team = format!("@acme/team-{}", rng.next(400));
        let line = match i % 10 {
            0..=3 => format!("/services/svc{}/ {team}", rng.next(2000)),
            4 => format!(
                "/services/svc{}/internal/*.{} {team}",
                rng.next(2000),
                EXTS[rng.next(EXTS.len())]
            ),
            5 => format!("**/fixtures{} {team} @user{}", rng.next(500), rng.next(900)),
            6 => format!("libs/lib{}/* {team}", rng.next(800)),
            7 => format!(
                "*.gen{}.{} {team}",
                rng.next(300),
                EXTS[rng.next(EXTS.len())]
            ),
            8 if i % 100 == 8 => format!("*snapshot{}* {team}", rng.next(100)),
            8 => format!(
                "docs/area{}/ docs{}@acme.example",
                rng.next(300),
                rng.next(50)
            ),
            _ => format!("/services/svc{}/generated/", rng.next(2000)),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn paths(count: usize, rng: &mut Lcg) -> Vec<String> {
    (0..count)
        .map(|_| match rng.next(4) {
            0 | 1 => format!(
                "services/svc{}/{}/{}/file{}.{}",
                rng.next(2000),
                ["src", "internal", "generated", "test"][rng.next(4)],
                ["core", "api", "fixtures7", "util"][rng.next(4)],
                rng.next(1000),
                EXTS[rng.next(EXTS.len())]
            ),
            2 => format!(
                "libs/lib{}/mod{}.{}",
                rng.next(800),
                rng.next(50),
                EXTS[rng.next(EXTS.len())]
            ),
            _ => format!("docs/area{}/page{}.md", rng.next(400), rng.next(100)),
        })
        .collect()
}

fn main() {
    let lines: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000);
    let count: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rng = Lcg(0x5eed);
    let text = codeowners(lines, &mut rng);
    let paths = paths(count, &mut rng);

    let start = Instant::now();
    let file = CodeOwners::parse(".github/CODEOWNERS", ".github/CODEOWNERS", &text);
    let compile = start.elapsed();
    assert!(file.errors().is_empty(), "generated CODEOWNERS has errors");

    let start = Instant::now();
    let mut owned = 0usize;
    let mut unassigned = 0usize;
    for path in &paths {
        match file.decide(path) {
            Some(d) if d.owners().is_empty() => unassigned += 1,
            Some(_) => owned += 1,
            None => {}
        }
    }
    let matching = start.elapsed();
    println!(
        "codeowners: {} rules compiled in {:.1} ms; {} paths matched in {:.1} ms ({:.2} µs/path); {} owned, {} un-assigned",
        file.rules().len(),
        compile.as_secs_f64() * 1e3,
        paths.len(),
        matching.as_secs_f64() * 1e3,
        matching.as_secs_f64() * 1e6 / paths.len() as f64,
        owned,
        unassigned
    );
    println!(
        "total (compile + match): {:.1} ms",
        (compile + matching).as_secs_f64() * 1e3
    );
}
