//! The type of a file from its first bytes (magic numbers); what the
//! client's header says is never believed.

/// How many leading bytes are read before the type is decided.
pub const HEAD_LEN: usize = 4096;

/// A detected type and the extension its stored name gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub ext: &'static str,
}

const fn t(content_type: &'static str, ext: &'static str) -> Sniffed {
    Sniffed { content_type, ext }
}

/// The type of content starting with `head` (at most `HEAD_LEN` bytes).
/// `original_name` only tells a Word document from other ZIP files, which
/// share their magic number.
pub fn sniff(head: &[u8], original_name: &str) -> Sniffed {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return t("image/png", "png");
    }
    if starts(b"\xff\xd8\xff") {
        return t("image/jpeg", "jpg");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return t("image/gif", "gif");
    }
    if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
        return t("image/webp", "webp");
    }
    if starts(b"%PDF-") {
        return t("application/pdf", "pdf");
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return t("application/msword", "doc");
    }
    if starts(b"PK\x03\x04") {
        let named_docx = original_name.to_ascii_lowercase().ends_with(".docx");
        if named_docx || contains(head, b"word/") {
            return t(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            );
        }
        return t("application/zip", "zip");
    }
    if let Ok(text) = std::str::from_utf8(trim_partial_utf8(head)) {
        if !text.contains('\0') {
            let lead = text.trim_start_matches('\u{feff}').trim_start();
            let lower = lead
                .get(..lead.len().min(HEAD_LEN))
                .unwrap_or("")
                .to_ascii_lowercase();
            if lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg")) {
                return t("image/svg+xml", "svg");
            }
            if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
                return t("text/html", "html");
            }
            return t("text/plain", "txt");
        }
    }
    t("application/octet-stream", "bin")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The head may end inside a multi-byte character; that is still text.
fn trim_partial_utf8(head: &[u8]) -> &[u8] {
    match std::str::from_utf8(head) {
        Ok(_) => head,
        Err(e) if e.error_len().is_none() => &head[..e.valid_up_to()],
        Err(_) => head,
    }
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....", "x.pdf").content_type,
            "image/png"
        );
        assert_eq!(sniff(b"%PDF-1.7", "a.png").ext, "pdf");
        assert_eq!(sniff(b"<html><script>", "a.png").content_type, "text/html");
        assert_eq!(
            sniff(b"  <svg xmlns=", "a.png").content_type,
            "image/svg+xml"
        );
        assert_eq!(sniff(b"PK\x03\x04", "cv.docx").ext, "docx");
        assert_eq!(sniff(b"PK\x03\x04", "a.zip").ext, "zip");
        assert_eq!(sniff(b"\x00\x01\x02", "a.png").ext, "bin");
    }
}
