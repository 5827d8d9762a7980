//! The signed payload and the signature, cut out of a raw commit or tag object exactly as git
//! cuts them (`parse_signed_commit`, `parse_signature` in git's sources).
//!
//! Commits carry the signature in a `gpgsig` header (`gpgsig-sha256` in SHA-256 repositories)
//! whose continuation lines start with a space; the payload is the object without that header.
//! Tags carry it appended to the message; the payload is everything before the last line that
//! starts a signature.

/// The signature formats git writes, recognised by their armour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `-----BEGIN PGP SIGNATURE-----`
    OpenPgp,
    /// `-----BEGIN SSH SIGNATURE-----` (SSHSIG)
    Ssh,
    /// `-----BEGIN SIGNED MESSAGE-----` (gpgsm, gitsign) or a PEM certificate/PKCS #7 block.
    X509,
    /// Something in the signature header that is none of the above.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OpenPgp => "openpgp",
            Format::Ssh => "ssh",
            Format::X509 => "x509",
            Format::Unknown => "unknown",
        }
    }

    /// The format a line starting a signature block announces, if any.
    pub fn of_armor(line: &[u8]) -> Option<Format> {
        const STARTS: [(&[u8], Format); 6] = [
            (b"-----BEGIN PGP SIGNATURE-----", Format::OpenPgp),
            (b"-----BEGIN PGP MESSAGE-----", Format::OpenPgp),
            (b"-----BEGIN SSH SIGNATURE-----", Format::Ssh),
            (b"-----BEGIN SIGNED MESSAGE-----", Format::X509),
            (b"-----BEGIN PKCS7-----", Format::X509),
            (b"-----BEGIN CERTIFICATE-----", Format::X509),
        ];
        STARTS
            .iter()
            .find(|(start, _)| line.starts_with(start))
            .map(|&(_, f)| f)
    }
}

/// A signature with the exact bytes it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub format: Format,
}

/// The signature header git uses for an object id of this length.
fn header_for(id: &str) -> &'static [u8] {
    if id.len() == 64 {
        b"gpgsig-sha256"
    } else {
        b"gpgsig"
    }
}

/// Split a raw commit into payload and signature. `None` when the commit is unsigned.
/// `id` decides the header (`gpgsig` for SHA-1 ids, `gpgsig-sha256` for SHA-256 ids); the other
/// algorithm's header stays in the payload, as git keeps it.
pub fn commit(raw: &[u8], id: &str) -> Option<Signed> {
    let header = header_for(id);
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature = Vec::new();
    let mut in_sig = false;
    let mut in_headers = true;
    let mut pos = 0;
    while pos < raw.len() {
        let end = memchr::memchr(b'\n', &raw[pos..]).map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        if in_headers {
            if line == b"\n" {
                in_headers = false;
                in_sig = false;
            } else if in_sig && line.first() == Some(&b' ') {
                signature.extend_from_slice(&line[1..]);
                pos = end;
                continue;
            } else {
                in_sig = false;
                if line.len() > header.len()
                    && line.starts_with(header)
                    && line[header.len()] == b' '
                {
                    in_sig = true;
                    signature.extend_from_slice(&line[header.len() + 1..]);
                    pos = end;
                    continue;
                }
            }
        }
        payload.extend_from_slice(line);
        pos = end;
    }
    if signature.is_empty() {
        return None;
    }
    let format = Format::of_armor(&signature).unwrap_or(Format::Unknown);
    Some(Signed {
        payload,
        signature,
        format,
    })
}

/// Split a raw tag into payload and signature. `None` when the tag is unsigned.
pub fn tag(raw: &[u8]) -> Option<Signed> {
    // Only the message can hold the signature: skip the headers.
    let body = memchr::memmem::find(raw, b"\n\n").map_or(raw.len(), |i| i + 2);
    let mut pos = body;
    let mut start = None;
    while pos < raw.len() {
        let line = &raw[pos..];
        if let Some(format) = Format::of_armor(line) {
            start = Some((pos, format));
        }
        pos = memchr::memchr(b'\n', line).map_or(raw.len(), |i| pos + i + 1);
    }
    let (at, format) = start?;
    Some(Signed {
        payload: raw[..at].to_vec(),
        signature: raw[at..].to_vec(),
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "0123456789012345678901234567890123456789";

    #[test]
    fn commit_signature_header_is_cut_out_with_its_continuation_lines() {
        let raw = b"tree t\nparent p\nauthor a <a@x> 1 +0000\ncommitter c <c@x> 1 +0000\ngpgsig -----BEGIN SSH SIGNATURE-----\n AAAA\n \n -----END SSH SIGNATURE-----\nencoding x\n\nmessage\n gpgsig not a header\n";
        let s = commit(raw, SHA1).unwrap();
        assert_eq!(s.format, Format::Ssh);
        assert_eq!(
            s.signature,
            b"-----BEGIN SSH SIGNATURE-----\nAAAA\n\n-----END SSH SIGNATURE-----\n"
        );
        assert_eq!(
            s.payload,
            b"tree t\nparent p\nauthor a <a@x> 1 +0000\ncommitter c <c@x> 1 +0000\nencoding x\n\nmessage\n gpgsig not a header\n"
        );
    }

    #[test]
    fn unsigned_commit_and_other_algorithm_header() {
        assert_eq!(commit(b"tree t\n\nmsg\n", SHA1), None);
        // A SHA-1 object keeps a gpgsig-sha256 header in its payload and is unsigned.
        assert_eq!(
            commit(
                b"tree t\ngpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n x\n\nmsg\n",
                SHA1
            ),
            None
        );
        let sha256 = "0".repeat(64);
        let s = commit(
            b"tree t\ngpgsig-sha256 -----BEGIN SIGNED MESSAGE-----\n x\n\nmsg\n",
            &sha256,
        )
        .unwrap();
        assert_eq!(s.format, Format::X509);
        assert_eq!(s.payload, b"tree t\n\nmsg\n");
    }

    #[test]
    fn tag_signature_is_the_last_armoured_block() {
        let raw = b"object o\ntype commit\ntag v1\ntagger t <t@x> 1 +0000\n\nv1\n-----BEGIN PGP SIGNATURE-----\nquoted\n-----END PGP SIGNATURE-----\n-----BEGIN PGP SIGNATURE-----\nreal\n-----END PGP SIGNATURE-----\n";
        let s = tag(raw).unwrap();
        assert_eq!(s.format, Format::OpenPgp);
        assert!(s
            .signature
            .starts_with(b"-----BEGIN PGP SIGNATURE-----\nreal"));
        assert!(s.payload.ends_with(b"-----END PGP SIGNATURE-----\n"));
        assert_eq!(tag(b"object o\ntype commit\ntag v1\n\nplain\n"), None);
    }
}
