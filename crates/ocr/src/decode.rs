//! Image intake: PNG, JPEG, WebP, TIFF, BMP. Byte size, dimensions and pixel count are
//! checked from the header *before* decoding, and the decoder runs under an allocation
//! limit, so a decompression bomb is refused instead of exhausting memory. EXIF orientation
//! is applied.

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use std::io::Cursor;

/// What an accepted image may be.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Encoded size.
    pub max_bytes: usize,
    /// Width × height.
    pub max_pixels: u64,
    /// Longest side.
    pub max_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 20_000,
        }
    }
}

/// Why an image was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// No bytes at all.
    #[error("the image is empty")]
    Empty,
    /// Over the byte limit.
    #[error("the image is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// Over the pixel or side limit (checked from the header).
    #[error("the image is {width}x{height} pixels; the limit is {max_pixels} pixels and {max_side} per side")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Pixels allowed.
        max_pixels: u64,
        /// Side allowed.
        max_side: u32,
    },
    /// Not one of the accepted formats.
    #[error("unsupported image format; send PNG, JPEG, WebP, TIFF or BMP")]
    Unsupported,
    /// A zero-sized image.
    #[error("the image has no pixels")]
    ZeroSize,
    /// Truncated or corrupt data.
    #[error("the image could not be decoded: {0}")]
    Corrupt(String),
}

const ACCEPTED: [ImageFormat; 5] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::WebP,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
];

/// Decodes `bytes` to RGB under `limits`.
pub fn decode(bytes: &[u8], limits: &ImageLimits) -> Result<RgbImage, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    // Formats with the size at a fixed place in the header are checked before any decoder
    // exists (a header-only bomb never gets as far as one).
    if let Some((width, height)) = declared_size(bytes) {
        check_size(width, height, limits)?;
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    // The crate's own default limits would refuse a huge header as a generic decoding error;
    // the header is read without them and checked against ours just below.
    reader.no_limits();
    match reader.format() {
        Some(f) if ACCEPTED.contains(&f) => {}
        _ => return Err(ImageError::Unsupported),
    }
    let corrupt = |e: image::ImageError| ImageError::Corrupt(e.to_string());
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    // Belt and braces: whatever the header said, decoding may not allocate more than an
    // RGBA16 image of the allowed size.
    let mut alloc = image::Limits::default();
    alloc.max_alloc = Some(limits.max_pixels * 8 + 1024 * 1024);
    alloc.max_image_width = Some(limits.max_side);
    alloc.max_image_height = Some(limits.max_side);
    decoder
        .set_limits(alloc)
        .map_err(|_| ImageError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
            max_side: limits.max_side,
        })?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

fn check_size(width: u32, height: u32, limits: &ImageLimits) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::ZeroSize);
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels
        || width.max(height) > limits.max_side
    {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
            max_side: limits.max_side,
        });
    }
    Ok(())
}

/// Width and height from a PNG's IHDR or a BMP's info header, where they sit at fixed offsets.
fn declared_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let le = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_le_bytes)
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(&b"IHDR"[..]) {
        return Some((be(16)?, be(20)?));
    }
    if bytes.starts_with(b"BM") && le(14)? >= 40 {
        // Height is negative for top-down bitmaps.
        return Some((le(18)?.unsigned_abs(), le(22)?.unsigned_abs()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbImage::new(w, h)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn accepts_a_png() {
        assert_eq!(
            decode(&png(7, 5), &ImageLimits::default())
                .unwrap()
                .dimensions(),
            (7, 5)
        );
    }

    #[test]
    fn refuses_before_decoding() {
        let limits = ImageLimits {
            max_bytes: 1 << 20,
            max_pixels: 100,
            max_side: 50,
        };
        assert!(matches!(
            decode(&png(20, 20), &limits),
            Err(ImageError::TooManyPixels { .. })
        ));
        assert_eq!(decode(&[], &limits), Err(ImageError::Empty));
        assert!(matches!(
            decode(b"hello, not an image", &limits),
            Err(ImageError::Unsupported)
        ));
        let mut truncated = png(8, 8);
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            decode(&truncated, &ImageLimits::default()),
            Err(ImageError::Corrupt(_))
        ));
    }

    #[test]
    fn a_huge_declared_size_is_refused_from_the_header() {
        // A valid PNG signature and IHDR declaring 50000 x 50000, and nothing else.
        let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        bytes.extend_from_slice(&50_000u32.to_be_bytes());
        bytes.extend_from_slice(&50_000u32.to_be_bytes());
        bytes.extend_from_slice(&[8, 2, 0, 0, 0]);
        let crc = crc32fast::hash(&bytes[12..]);
        bytes.extend_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            decode(&bytes, &ImageLimits::default()),
            Err(ImageError::TooManyPixels { width: 50_000, .. })
        ));
    }
}
