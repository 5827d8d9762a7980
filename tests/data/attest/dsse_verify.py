"""Verify vouch attestation notes with securesystemslib and git, independently of vouch.

usage: dsse_verify.py NOTE PUBKEY COMMIT REF
       dsse_verify.py --branch PUBKEY REF [REPO]
  NOTE    the note's bytes (`git notes --ref refs/notes/vouch show COMMIT > note`): JSON Lines,
          one DSSE envelope per line
  PUBKEY  the verifier's OpenSSH public key (ssh-ed25519 or ecdsa-sha2-nistp256)
  COMMIT  the commit id every statement's subject must name (digest gitCommit)
  REF     the ref the subject must name

Exit 0 when every envelope verifies with the key (keyid = the key's SHA256 fingerprint, as
ssh-keygen -l prints it) and names COMMIT on REF; 1 with the reason otherwise.

With --branch, walk REF's first-parent history in REPO (default .) from its tip down to the
chain's first attestation: every note must verify, name its commit, list as landed exactly the
first-parent commits down to its previous tip, and carry the SHA-256 of the previous tip's note.
Exit 0 when the whole chain holds.
"""
import base64
import hashlib
import json
import subprocess
import sys

from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def fingerprint(openssh_line: str) -> str:
    blob = base64.b64decode(openssh_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def load_key(key_path: str) -> SSlibKey:
    line = open(key_path, encoding="utf-8").read().strip()
    return SSlibKey.from_crypto(load_ssh_public_key(line.encode()), keyid=fingerprint(line))


def main() -> int:
    if sys.argv[1:2] == ["--branch"]:
        return branch(load_key(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ".")
    note_path, key_path, commit, ref = sys.argv[1:5]
    text = open(note_path, encoding="utf-8").read()
    statements = check_note(text, load_key(key_path), commit, ref)
    if statements is None:
        return 1
    print(f"ok: {len(statements)} envelopes")
    return 0


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def branch(key: SSlibKey, ref: str, repo: str) -> int:
    at = git(repo, "rev-parse", "--verify", ref + "^{commit}").strip()
    first_parents = git(repo, "rev-list", "--first-parent", at).split()
    position = {c: i for i, c in enumerate(first_parents)}
    link = None
    count = 0
    while True:
        try:
            note = git(repo, "notes", "--ref", "refs/notes/vouch", "show", at)
        except subprocess.CalledProcessError:
            print(f"{at} has no attestation")
            return 1
        if link is not None and hashlib.sha256(note.encode()).hexdigest() != link:
            print(f"chain broken: the note on {at} is not the one the next attestation links to")
            return 1
        statements = check_note(note, key, at, ref)
        if statements is None:
            return 1
        merge = next((s for s in statements if s["predicateType"] != "https://slsa.dev/verification_summary/v1"), None)
        if merge is None:
            print(f"the note on {at} has no vouch statement")
            return 1
        p = merge["predicate"]
        previous = p["previousTip"]
        i = position[at]
        expected = first_parents[i : position[previous]] if previous in position else first_parents[i:]
        if p["landed"] != expected:
            print(f"the attestation on {at} lands {p['landed']}, but first parents are {expected}")
            return 1
        count += 1
        if p["previousAttestation"] is None:
            print(f"ok: {count} attestations verified down to the chain's first, on {at}")
            return 0
        link = p["previousAttestation"]["sha256"]
        at = previous


def check_note(text: str, key: SSlibKey, commit: str, ref: str):
    """The statements of a note when every envelope verifies and names COMMIT on REF; else None."""
    envelopes = [l for l in text.splitlines() if l.strip()]
    statements = []
    if not envelopes:
        print("no envelope")
        return None
    for text in envelopes:
        envelope = Envelope.from_dict(json.loads(text))
        try:
            envelope.verify([key], 1)
        except Exception as e:  # securesystemslib raises VerificationError
            print(f"signature: {e}")
            return None
        statement = json.loads(envelope.payload)
        if envelope.payload_type != "application/vnd.in-toto+json":
            print(f"payload type {envelope.payload_type}")
            return None
        subjects = statement["subject"]
        if len(subjects) != 1 or subjects[0]["digest"].get("gitCommit") != commit or subjects[0]["name"] != ref:
            print(f"subject {subjects} is not {commit} on {ref}")
            return None
        statements.append(statement)
    return statements


if __name__ == "__main__":
    sys.exit(main())
