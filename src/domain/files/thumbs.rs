//! Thumbnail sizes as PocketBase writes them: `WxH` (crop to the center),
//! `WxHt` (crop from the top), `WxHb` (from the bottom), `WxHf` (fit inside,
//! no crop), `0xH` and `Wx0` (resize keeping the aspect ratio).

/// How a thumbnail is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThumbMode {
    Center,
    Top,
    Bottom,
    Fit,
    /// One side is 0: scale to the other.
    Scale,
}

/// A parsed thumbnail size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThumbSpec {
    pub width: u32,
    pub height: u32,
    pub mode: ThumbMode,
}

/// Largest thumbnail side.
const MAX_SIDE: u32 = 2000;

impl ThumbSpec {
    pub fn parse(s: &str) -> Option<ThumbSpec> {
        let (w, rest) = s.split_once('x')?;
        let (h, mode) = match rest.as_bytes().last()? {
            b't' => (&rest[..rest.len() - 1], ThumbMode::Top),
            b'b' => (&rest[..rest.len() - 1], ThumbMode::Bottom),
            b'f' => (&rest[..rest.len() - 1], ThumbMode::Fit),
            _ => (rest, ThumbMode::Center),
        };
        let digits =
            |v: &str| !v.is_empty() && v.len() <= 4 && v.bytes().all(|b| b.is_ascii_digit());
        if !digits(w) || !digits(h) {
            return None;
        }
        let (width, height) = (w.parse().ok()?, h.parse().ok()?);
        if width > MAX_SIDE || height > MAX_SIDE || (width == 0 && height == 0) {
            return None;
        }
        let mode = if width == 0 || height == 0 {
            if mode != ThumbMode::Center {
                return None;
            }
            ThumbMode::Scale
        } else {
            mode
        };
        Some(ThumbSpec {
            width,
            height,
            mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ThumbMode, ThumbSpec};

    #[test]
    fn pocketbase_thumb_forms_parse() {
        assert_eq!(ThumbSpec::parse("100x100").unwrap().mode, ThumbMode::Center);
        assert_eq!(ThumbSpec::parse("100x50t").unwrap().mode, ThumbMode::Top);
        assert_eq!(ThumbSpec::parse("100x50b").unwrap().mode, ThumbMode::Bottom);
        assert_eq!(ThumbSpec::parse("100x50f").unwrap().mode, ThumbMode::Fit);
        assert_eq!(ThumbSpec::parse("0x50").unwrap().mode, ThumbMode::Scale);
        assert_eq!(ThumbSpec::parse("50x0").unwrap().mode, ThumbMode::Scale);
        for bad in ["", "x", "0x0", "10", "ax10", "10x10z", "0x10t", "99999x1"] {
            assert!(ThumbSpec::parse(bad).is_none(), "{bad}");
        }
    }
}
