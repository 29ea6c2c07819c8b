"""Reference images are checked and cleaned before anything is sent (create/uploads.py)."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, PngImagePlugin

from tasks_app.create.uploads import REFERENCE_SIDE, UploadError, reference_clean

GPS = 0x8825


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg_with_gps_and_orientation(size=(60, 40)) -> bytes:
    image = Image.new("RGB", size, "orange")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS)[2] = (52.0, 31.0, 0.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, icc_profile=b"\0" * 128)
    return buffer.getvalue()


def decoded(reference) -> Image.Image:
    header, _, data = reference.data_url.partition(",")
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_a_photo_loses_its_exif_gps_and_profile_and_is_turned_upright():
    original = jpeg_with_gps_and_orientation()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS)  # it had them
    reference = reference_clean(upload(original))
    image = decoded(reference)
    assert reference.data_url.startswith("data:image/jpeg;base64,")
    assert (image.width, image.height) == (40, 60)  # the orientation applied, then dropped
    assert not image.getexif() and "icc_profile" not in image.info and "exif" not in image.info


def test_a_png_keeps_its_transparency_and_loses_its_text_chunks_and_profile():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 0, 0, 128)).save(buffer, "PNG", pnginfo=info, icc_profile=profile)
    assert {"Comment", "icc_profile"} <= set(Image.open(io.BytesIO(buffer.getvalue())).info)  # it had them
    image = decoded(reference_clean(upload(buffer.getvalue(), "a.png", "image/png")))
    assert image.mode == "RGBA" and image.getpixel((0, 0)) == (255, 0, 0, 128)
    assert "Comment" not in image.info and "icc_profile" not in image.info


def test_a_large_picture_is_sent_at_most_reference_side_a_side():
    buffer = io.BytesIO()
    Image.new("RGB", (REFERENCE_SIDE * 2, REFERENCE_SIDE), "blue").save(buffer, "WEBP")
    reference = reference_clean(upload(buffer.getvalue(), "big.webp", "image/webp"))
    assert (reference.width, reference.height) == (REFERENCE_SIDE, REFERENCE_SIDE // 2)
    assert reference.data_url.startswith("data:image/webp;base64,")


def test_a_file_over_the_limit_is_refused_before_it_is_read(settings):
    settings.MJ_UPLOAD_MAX_BYTES = 1000
    file = upload(b"\xff" * 1001)
    with pytest.raises(UploadError, match="photo.jpg.*at most"):
        reference_clean(file)
    assert file.tell() == 0


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7 this is a document", b"GIF89a" + b"\0" * 40, jpeg_with_gps_and_orientation()[:200]],
    ids=["pdf", "gif", "truncated jpeg"],
)
def test_what_is_not_a_whole_png_jpeg_or_webp_is_refused_whatever_its_name(data):
    with pytest.raises(UploadError, match="not a PNG, JPEG or WebP"):
        reference_clean(upload(data, "looks-fine.png", "image/png"))


def test_a_decompression_bomb_is_refused(settings):
    settings.MJ_IMAGE_MAX_PIXELS = 100 * 100
    buffer = io.BytesIO()
    Image.new("L", (101, 100)).save(buffer, "PNG")
    with pytest.raises(UploadError, match="too many pixels"):
        reference_clean(upload(buffer.getvalue(), "bomb.png", "image/png"))
