//! Thumbnails of stored images (`?thumb=WxH`), as PocketBase serves them:
//! `100x100` for every image field, other sizes only when the field declares
//! them; anything else (or a file that is not png/jpeg/gif/webp) is served as
//! the original. Each is generated once, off the async executor, and kept in
//! storage beside its original (`FileStore::thumb_key`), deleted with it.
use bytes::Bytes;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use super::rules::{DEFAULT_THUMB, FileRules};
use super::thumbs::{ThumbMode, ThumbSpec};
use crate::error::{AppError, AppResult};
use crate::files::FileStore;

/// The largest source image decoded for a thumbnail (pixels per side).
const MAX_SOURCE_SIDE: u32 = 12_000;
/// The most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// A thumbnail ready to serve.
pub struct Thumb {
    pub storage_key: String,
    pub content_type: &'static str,
    pub size: u64,
}

/// The thumbnail `requested` of the image at `storage_key`, generated now if
/// it is not stored yet; `None` when the original is to be served.
pub async fn thumb(
    store: &FileStore,
    storage_key: &str,
    content_type: &str,
    rules: &FileRules,
    requested: &str,
) -> AppResult<Option<Thumb>> {
    if requested != DEFAULT_THUMB && !rules.thumbs.iter().any(|t| t == requested) {
        return Ok(None);
    }
    let (Some(spec), Some(format)) = (ThumbSpec::parse(requested), source_format(content_type))
    else {
        return Ok(None);
    };
    let out = output_format(format);
    let key = FileStore::thumb_key(storage_key, requested);
    let content_type = out.to_mime_type();
    if let Some(size) = store.size(&key).await? {
        return Ok(Some(Thumb {
            storage_key: key,
            content_type,
            size,
        }));
    }
    let source = store.read_all(storage_key).await?;
    let made = tokio::task::spawn_blocking(move || make(&source, format, spec, out))
        .await
        .map_err(AppError::internal)?;
    let Some(bytes) = made else {
        // Not decodable as the image it claimed to be: the original it is.
        return Ok(None);
    };
    let size = bytes.len() as u64;
    store.put(&key, bytes).await?;
    Ok(Some(Thumb {
        storage_key: key,
        content_type,
        size,
    }))
}

fn source_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// JPEG stays JPEG; the others become PNG (GIF's first frame; lossless WebP).
fn output_format(source: ImageFormat) -> ImageFormat {
    match source {
        ImageFormat::Jpeg => ImageFormat::Jpeg,
        _ => ImageFormat::Png,
    }
}

/// Decodes, cuts and encodes a thumbnail (blocking).
fn make(source: &[u8], format: ImageFormat, spec: ThumbSpec, out: ImageFormat) -> Option<Bytes> {
    let mut reader = ImageReader::with_format(std::io::Cursor::new(source), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let img = cut(&img, spec);
    let img = if out == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(img.to_rgb8())
    } else {
        img
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, out).ok()?;
    Some(Bytes::from(buf.into_inner()))
}

/// The thumbnail's pixels for `spec`.
pub fn cut(img: &DynamicImage, spec: ThumbSpec) -> DynamicImage {
    let (w0, h0) = (img.width().max(1), img.height().max(1));
    let (w, h) = (spec.width, spec.height);
    let filter = FilterType::Lanczos3;
    match spec.mode {
        ThumbMode::Scale if w == 0 => {
            let nw = ((u64::from(w0) * u64::from(h)) / u64::from(h0)).max(1) as u32;
            img.resize_exact(nw, h, filter)
        }
        ThumbMode::Scale => {
            let nh = ((u64::from(h0) * u64::from(w)) / u64::from(w0)).max(1) as u32;
            img.resize_exact(w, nh, filter)
        }
        ThumbMode::Fit => img.resize(w, h, filter),
        ThumbMode::Center | ThumbMode::Top | ThumbMode::Bottom => {
            // Scale to cover the box, then crop it.
            let scale = f64::max(f64::from(w) / f64::from(w0), f64::from(h) / f64::from(h0));
            let sw = ((f64::from(w0) * scale).ceil() as u32).max(w);
            let sh = ((f64::from(h0) * scale).ceil() as u32).max(h);
            let scaled = img.resize_exact(sw, sh, filter);
            let x = (sw - w) / 2;
            let y = match spec.mode {
                ThumbMode::Top => 0,
                ThumbMode::Bottom => sh - h,
                _ => (sh - h) / 2,
            };
            scaled.crop_imm(x, y, w, h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cut;
    use crate::domain::files::thumbs::ThumbSpec;
    use image::{DynamicImage, Rgba, RgbaImage};

    fn sized(spec: &str) -> (u32, u32) {
        // Top half red, bottom half blue, 200x100.
        let img = RgbaImage::from_fn(200, 100, |_, y| {
            if y < 50 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        let out = cut(
            &DynamicImage::ImageRgba8(img),
            ThumbSpec::parse(spec).unwrap(),
        );
        (out.width(), out.height())
    }

    #[test]
    fn every_pocketbase_form_has_its_dimensions() {
        assert_eq!(sized("100x100"), (100, 100));
        assert_eq!(sized("50x80t"), (50, 80));
        assert_eq!(sized("50x80b"), (50, 80));
        assert_eq!(sized("100x100f"), (100, 50));
        assert_eq!(sized("0x50"), (100, 50));
        assert_eq!(sized("50x0"), (50, 25));
    }

    #[test]
    fn top_and_bottom_crops_keep_their_edge() {
        let img = RgbaImage::from_fn(100, 200, |_, y| {
            if y < 100 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        let img = DynamicImage::ImageRgba8(img);
        let top = cut(&img, ThumbSpec::parse("100x50t").unwrap()).to_rgba8();
        assert_eq!(top.get_pixel(50, 25)[0], 255);
        let bottom = cut(&img, ThumbSpec::parse("100x50b").unwrap()).to_rgba8();
        assert_eq!(bottom.get_pixel(50, 25)[2], 255);
    }
}
