#!/usr/bin/env bash
# Accuracy of vouch's secret scanner on a labelled corpus, per file, as outside measurements
# count it: a secret file is found when vouch reports anything in it; a clean file is a false
# alarm when vouch reports anything in it.
#
#   scripts/eval-secrets.sh                 build the release binary, print every set
#   VOUCH=/path/to/vouch scripts/eval-secrets.sh   measure another binary (an older build)
#   MIN_RECALL=70 MAX_FALSE=2 scripts/eval-secrets.sh   also fail when the holdout set misses
#
# Sets:
#   rules    every built-in rule's examples (secret) and negatives (clean), one file each
#   tune     rules/tests/data/secrets-eval/tune/{secret,clean}/*: realistic files rules are
#            tuned on
#   holdout  rules/tests/data/secrets-eval/holdout/{secret,clean}/*: realistic files written
#            before tuning and never tuned against; this is the figure that counts
# Files hold markers `@@gen:KIND@@` that become generated fakes at run time (so the repository
# holds no token with a valid checksum): b62:N dec:N hex:N upper:N lower:N b64:N b64u:N crypt:N
# uuid github:PREFIX npm jwt pem:LABEL kb64:N (base64 of N generated characters).
# The last line is one figure line for CI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
if [ -z "${VOUCH:-}" ]; then
  cargo build --release -q -p vouch-hooks --manifest-path "$root/Cargo.toml"
  VOUCH=$target/release/vouch
fi
VOUCH=$(cd "$(dirname "$VOUCH")" && pwd)/$(basename "$VOUCH")
work=$(mktemp -d "${TMPDIR:-/tmp}/vouch-eval.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$root" "$work" "$VOUCH" "${MIN_RECALL:-}" "${MAX_FALSE:-}" <<'PY'
import base64, hashlib, json, os, random, re, subprocess, sys, tomllib, zlib

root, work, vouch, min_recall, max_false = sys.argv[1:6]
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALPHABETS = {
    "b62": B62, "dec": "0123456789", "hex": "0123456789abcdef", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "lower": "abcdefghijklmnopqrstuvwxyz0123456789", "b64": B62 + "+/", "b64u": B62 + "_-",
    "crypt": "./" + B62,
}

def base62(n, width):
    out = ""
    while n:
        out = B62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")

def b64u(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")

def gen(kind, rng):
    name, _, arg = kind.partition(":")
    if name in ALPHABETS:
        return "".join(rng.choice(ALPHABETS[name]) for _ in range(int(arg)))
    if name == "uuid":
        h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
    if name in ("github", "npm"):
        payload = "".join(rng.choice(B62) for _ in range(30))
        prefix = arg if name == "github" else "npm_"
        return prefix + payload + base62(zlib.crc32(payload.encode()), 6)
    if name == "jwt":
        header = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64u(json.dumps({"sub": str(rng.randrange(10**9)), "iat": 1700000000 + rng.randrange(10**7)}).encode())
        return f"{header}.{body}.{b64u(rng.randbytes(32))}"
    if name == "pem":
        body = base64.b64encode(b"\x30\x82\x04\xa4\x02\x01\x00" + rng.randbytes(900)).decode()
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN {arg}-----\n{lines}\n-----END {arg}-----"
    if name == "kb64":
        return base64.b64encode(gen(f"b62:{arg}", rng).encode()).decode()
    raise SystemExit(f"eval-secrets: unknown generator {kind!r}")

MARK = re.compile(r"@@gen:([a-z0-9]+(?::[^@]*)?)@@")

def render(text, seed):
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    return MARK.sub(lambda m: gen(m.group(1), rng), text)

sets = {}   # name -> list of (path, label)
def add(set_name, rel, text, label):
    path = os.path.join(work, set_name, label, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    sets.setdefault(set_name, []).append((os.path.realpath(path), label))

rules_dir = os.path.join(root, "rules/src/secrets/rules")
for family in sorted(os.listdir(rules_dir)):
    if not family.endswith(".toml"):
        continue
    with open(os.path.join(rules_dir, family), "rb") as f:
        for rule in tomllib.load(f).get("rule", []):
            for i, text in enumerate(rule.get("examples", [])):
                add("rules", f"{rule['id']}-{i}.txt", text, "secret")
            for i, text in enumerate(rule.get("negatives", [])):
                add("rules", f"{rule['id']}-{i}.txt", text, "clean")

data = os.path.join(root, "rules/tests/data/secrets-eval")
for set_name in ("tune", "holdout"):
    for label in ("secret", "clean"):
        base = os.path.join(data, set_name, label)
        for dirpath, _, names in os.walk(base):
            for name in sorted(names):
                src = os.path.join(dirpath, name)
                rel = os.path.relpath(src, base)
                with open(src) as f:
                    add(set_name, rel, render(f.read(), f"{set_name}/{label}/{rel}"), label)

flagged = {}
for set_name in sets:
    out = subprocess.run([vouch, "scan", "--no-ignore", "--format", "json", os.path.join(work, set_name)],
                         capture_output=True, text=True, cwd=work)
    if out.returncode not in (0, 1):
        raise SystemExit(f"eval-secrets: vouch scan failed ({out.returncode}): {out.stderr.strip()}")
    report = json.loads(out.stdout)
    for check in report.get("checks", []):
        for finding in check.get("findings", []):
            path = finding.get("location", {}).get("path")
            if path and finding.get("severity") == "error":
                flagged.setdefault(os.path.realpath(path), []).append(finding.get("rule", "?"))

verbose = os.environ.get("EVAL_VERBOSE")
figures = {}
for set_name in ("rules", "tune", "holdout"):
    files = sets.get(set_name, [])
    secret = [p for p, l in files if l == "secret"]
    clean = [p for p, l in files if l == "clean"]
    found = [p for p in secret if p in flagged]
    alarms = [p for p in clean if p in flagged]
    recall = 100.0 * len(found) / max(len(secret), 1)
    false = 100.0 * len(alarms) / max(len(clean), 1)
    figures[set_name] = (recall, false)
    print(f"{set_name:8} recall {recall:5.1f}% ({len(found)}/{len(secret)})   false alarms {false:4.1f}% ({len(alarms)}/{len(clean)})")
    if verbose:
        for p in secret:
            if p not in flagged:
                print(f"  missed  {os.path.relpath(p, work)}")
        for p in alarms:
            print(f"  alarm   {os.path.relpath(p, work)}: {', '.join(sorted(set(flagged[p])))}")
h, t, r = figures["holdout"], figures["tune"], figures["rules"]
print(f"secrets-eval: holdout recall {h[0]:.1f}% false-alarm {h[1]:.1f}% | tune {t[0]:.1f}%/{t[1]:.1f}% | rule examples {r[0]:.1f}%/{r[1]:.1f}%")
if min_recall and h[0] < float(min_recall):
    raise SystemExit(f"eval-secrets: holdout recall {h[0]:.1f}% is under {min_recall}%")
if max_false and h[1] > float(max_false):
    raise SystemExit(f"eval-secrets: holdout false alarms {h[1]:.1f}% are over {max_false}%")
PY
