//! Image intake: PNG, JPEG, WebP, TIFF, BMP. Byte size, dimensions and pixel count are
//! checked from the header *before* decoding, and the decoder runs under an allocation
//! limit, so a decompression bomb is refused instead of exhausting memory. EXIF orientation
//! is applied. A page larger than the pipeline's working size is scaled down right after
//! decoding, in its own pixel format, before it is converted to RGB: a small upload of a huge
//! page costs its decoded size once, briefly, and then only the working size. (None of the
//! codecs here can decode at a reduced size, so the full decode cannot be skipped.)

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

/// A decoded page.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The page the pipeline reads: the image, scaled down to at most the working size.
    pub image: RgbImage,
    /// The original's width (after EXIF orientation): what the caller's coordinates refer to.
    pub width: u32,
    /// The original's height (after EXIF orientation).
    pub height: u32,
}

impl Decoded {
    /// Factors from the working image's coordinates back to the original's.
    pub fn scale(&self) -> (f32, f32) {
        (
            self.width as f32 / self.image.width().max(1) as f32,
            self.height as f32 / self.image.height().max(1) as f32,
        )
    }
}

/// What decoding an image will take, read from its header only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Width as stored (before EXIF orientation).
    pub width: u32,
    /// Height as stored.
    pub height: u32,
    /// Bytes per pixel of the decoded image in its own format.
    pub bytes_per_pixel: u8,
    /// Bytes per pixel the decoder itself holds on top while it runs: a JPEG decoder keeps
    /// its components (four for CMYK, which it reports as RGB) and working rows before
    /// converting; WebP keeps an ARGB buffer. (Measured on 6300 px squares: a CMYK JPEG raised
    /// the peak by 423 MiB, an RGB JPEG by 218, a lossless WebP by 264, a PNG by 216.)
    pub decoder_bytes_per_pixel: u8,
}

/// Reads the header of `bytes` and checks it against `limits`, without decoding pixels.
pub fn probe(bytes: &[u8], limits: &ImageLimits) -> Result<Probe, ImageError> {
    let decoder = open(bytes, limits)?;
    let (width, height) = decoder.dimensions();
    let decoder_bytes_per_pixel = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => 6,
        Ok(ImageFormat::WebP) => 2,
        _ => 0,
    };
    Ok(Probe {
        width,
        height,
        bytes_per_pixel: decoder.color_type().bytes_per_pixel(),
        decoder_bytes_per_pixel,
    })
}

/// The working size of a page for `max_side`: the page shrunk by the smallest whole factor
/// that brings its longer side to at most `max_side` (a whole factor makes the shrink an
/// exact box average, which needs no buffer but its output).
pub fn working_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let factor = width.max(height).div_ceil(max_side.max(1)).max(1);
    ((width / factor).max(1), (height / factor).max(1))
}

/// Decodes `bytes` under `limits`, scaled down so its longer side is at most `max_side`.
pub fn decode(bytes: &[u8], limits: &ImageLimits, max_side: u32) -> Result<Decoded, ImageError> {
    let mut decoder = open(bytes, limits)?;
    let (width, height) = decoder.dimensions();
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
    let corrupt = |e: image::ImageError| ImageError::Corrupt(e.to_string());
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let (w, h) = (img.width(), img.height());
    let (ww, wh) = working_size(w, h, max_side);
    if (ww, wh) != (w, h) {
        // In the decoded format (e.g. 1 byte a pixel for a grey scan), by box averaging,
        // which needs no buffer but its output (a filtered resize keeps a float RGBA copy of
        // the page at the target height: 400 MB for a 6300 px square); then the original is
        // dropped.
        img = img.thumbnail_exact(ww, wh);
    }
    img.apply_orientation(orientation);
    let (width, height) = if matches!(
        orientation,
        image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH
    ) {
        (h, w)
    } else {
        (w, h)
    };
    Ok(Decoded {
        image: img.into_rgb8(),
        width,
        height,
    })
}

/// Checks bytes and header against `limits` and opens a decoder for an accepted format.
fn open<'a>(
    bytes: &'a [u8],
    limits: &ImageLimits,
) -> Result<Box<dyn image::ImageDecoder + 'a>, ImageError> {
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
    let decoder = reader
        .into_decoder()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    Ok(Box::new(decoder))
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
            decode(&png(7, 5), &ImageLimits::default(), 4096)
                .unwrap()
                .image
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
            decode(&png(20, 20), &limits, 4096),
            Err(ImageError::TooManyPixels { .. })
        ));
        assert!(matches!(decode(&[], &limits, 4096), Err(ImageError::Empty)));
        assert!(matches!(
            decode(b"hello, not an image", &limits, 4096),
            Err(ImageError::Unsupported)
        ));
        let mut truncated = png(8, 8);
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            decode(&truncated, &ImageLimits::default(), 4096),
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
            decode(&bytes, &ImageLimits::default(), 4096),
            Err(ImageError::TooManyPixels { width: 50_000, .. })
        ));
    }

    #[test]
    fn a_large_page_is_read_at_the_working_size_with_its_own_dimensions() {
        let big = png(3000, 1200);
        let d = decode(&big, &ImageLimits::default(), 1000).unwrap();
        assert_eq!((d.width, d.height), (3000, 1200), "the original's size");
        assert_eq!(d.image.dimensions(), (1000, 400), "shrunk by 3");
        assert_eq!(d.scale(), (3.0, 3.0));
        assert_eq!(
            working_size(6300, 6300, 4096),
            (3150, 3150),
            "by a whole factor"
        );
        assert_eq!(working_size(4096, 100, 4096), (4096, 100));
        let small = decode(&png(640, 480), &ImageLimits::default(), 1000).unwrap();
        assert_eq!(
            small.image.dimensions(),
            (640, 480),
            "small pages are left alone"
        );
        let p = probe(&big, &ImageLimits::default()).unwrap();
        assert_eq!((p.width, p.height, p.bytes_per_pixel), (3000, 1200, 3));
    }
}
