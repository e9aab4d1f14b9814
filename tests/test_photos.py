"""The photo pipeline (walkapp.photos.process) and photo storage."""
from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image, ImageFile, ImageOps
from sqlalchemy.exc import IntegrityError

from walkapp import photos
from walkapp.config import Defaults
from walkapp.extensions import db
from walkapp.models import Category, Observation, Photo, PhotoStage, Role, User
from walkapp.photos import LocalStorage, PhotoError, ProcessedPhoto, process

from . import photo_samples as samples

LIMITS = {"max_bytes": Defaults.PHOTO_MAX_BYTES, "max_pixels": Defaults.PHOTO_MAX_PIXELS}
QUARTERS = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]


def run(data: bytes, **limits) -> ProcessedPhoto:
    return process(data, **{**LIMITS, **limits})


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def colour_at(im: Image.Image, fx: float, fy: float) -> tuple[int, int, int]:
    return im.convert("RGB").getpixel((int(im.width * fx), int(im.height * fy)))


def close(a, b, tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


# --- Renditions --------------------------------------------------------------


def test_renditions_fit_their_boxes_and_are_upright():
    result = run(samples.jpeg_with_orientation_and_gps(3200, 2400, orientation=6))
    display, thumb = opened(result.display), opened(result.thumbnail)
    assert display.format == thumb.format == "JPEG" and display.mode == "RGB"
    assert display.size == (result.width, result.height) == (1200, 1600)
    assert thumb.size == (300, 400)
    for im in (display, thumb):
        # Stored: green top-left, red top-right, blue bottom. Orientation 6
        # turns it a quarter clockwise: blue left, red right, green top-right.
        assert close(colour_at(im, 0.75, 0.25), samples.GREEN)
        assert close(colour_at(im, 0.75, 0.75), samples.RED)
        assert close(colour_at(im, 0.25, 0.25), samples.BLUE)
        assert close(colour_at(im, 0.25, 0.75), samples.BLUE)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(orientation):
    data = samples.jpeg_with_orientation_and_gps(3400, 2000, orientation=orientation)
    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    display = opened(run(data).display)
    assert max(display.size) == 1600
    assert abs(display.width / display.height - reference.width / reference.height) < 0.01
    for fx, fy in QUARTERS:
        assert close(colour_at(display, fx, fy), colour_at(reference, fx, fy)), (fx, fy)


def test_small_photos_are_not_enlarged():
    result = run(samples.webp_bytes(500, 300))
    assert (result.width, result.height) == (500, 300)
    assert opened(result.thumbnail).size == (400, 240)


def test_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    """draft() must run before anything decodes the full image."""
    from PIL import JpegImagePlugin

    decoded_sizes = []
    original_load = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        decoded_sizes.append(self.size)
        return original_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    result = run(samples.jpeg_with_orientation_and_gps(3200, 2400, orientation=6))
    assert decoded_sizes and set(decoded_sizes) == {(1600, 1200)}  # libjpeg's 1/2 scale
    assert (result.width, result.height) == (1200, 1600)


def _encoded(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


RED_200x100 = Image.new("RGB", (200, 100), samples.RED)


@pytest.mark.parametrize("data, expected", [
    (_encoded(RED_200x100.convert("CMYK"), "JPEG"), samples.RED),
    (_encoded(RED_200x100.convert("L"), "JPEG"), (81, 81, 81)),
    (_encoded(Image.new("I;16", (200, 100), 40000), "PNG"), (156, 156, 156)),  # not clipped white
    (_encoded(RED_200x100.convert("LA"), "PNG"), (81, 81, 81)),
    (_encoded(RED_200x100, "MPO", save_all=True, append_images=[RED_200x100]), samples.RED),
    (_encoded(RED_200x100, "WEBP", save_all=True, append_images=[Image.new("RGB", (200, 100))]),
     samples.RED),
], ids=["cmyk-jpeg", "grey-jpeg", "16-bit-png", "grey-alpha-png", "mpo", "animated-webp"])
def test_other_modes_and_containers_become_rgb(data, expected):
    display = opened(run(data).display)
    assert display.mode == "RGB" and display.size == (200, 100)
    assert close(display.getpixel((100, 50)), expected, 12)


GOOD_SAMPLES = {
    "jpeg": samples.jpeg_with_orientation_and_gps,
    "heic": samples.heic_bytes,
    "png": samples.png_bytes,
    "webp": samples.webp_bytes,
}
SECRETS = [
    b"Exif",
    b"http://ns.adobe.com/xap",
    b"ICC_PROFILE",
    samples.COMMENT.encode(),
    samples.XMP_MARKER.encode(),
    samples.MAKE.encode(),
]


def test_the_jpeg_sample_really_carries_metadata():
    data = samples.jpeg_with_orientation_and_gps()
    assert all(secret in data for secret in SECRETS)
    assert {"exif", "xmp", "icc_profile", "comment"} <= set(Image.open(io.BytesIO(data)).info)


@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_renditions_carry_no_metadata(name):
    result = run(GOOD_SAMPLES[name]())
    for data in (result.display, result.thumbnail):
        im = opened(data)
        assert len(im.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(im.info)
        for secret in SECRETS:
            assert secret not in data, secret


def test_colours_are_converted_from_an_embedded_rgb_profile():
    # sRGB content under another name: the conversion runs, colours stay put.
    icc = samples.srgb_icc().replace("sRGB".encode("utf-16-be"), "Test".encode("utf-16-be"))
    assert b"s\x00R\x00G\x00B" not in icc
    data = _encoded(samples.asymmetric_image(400, 300), "JPEG", icc_profile=icc)
    display = opened(run(data).display)
    assert "icc_profile" not in display.info
    assert close(colour_at(display, 0.75, 0.25), samples.RED, 12)
    assert close(colour_at(display, 0.5, 0.75), samples.BLUE, 12)


def test_a_broken_profile_is_ignored():
    data = _encoded(samples.asymmetric_image(400, 300), "JPEG", icc_profile=b"not a profile" * 10)
    display = opened(run(data).display)
    assert close(colour_at(display, 0.5, 0.75), samples.BLUE, 12)


def test_heic_is_accepted():
    result = run(samples.heic_bytes(800, 600))
    display = opened(result.display)
    assert display.format == "JPEG" and display.size == (800, 600)
    assert close(colour_at(display, 0.75, 0.25), samples.RED)
    assert close(colour_at(display, 0.25, 0.25), samples.GREEN)
    assert close(colour_at(display, 0.5, 0.75), samples.BLUE)


def test_png_alpha_is_flattened_on_white():
    result = run(samples.png_bytes(300, 200))
    display = opened(result.display)
    assert display.mode == "RGB" and display.size == (300, 200)
    assert close(colour_at(display, 0.25, 0.5), samples.WHITE, 8)
    assert close(colour_at(display, 0.75, 0.5), samples.GREEN)


def test_webp_is_accepted():
    display = opened(run(samples.webp_bytes(500, 300)).display)
    assert display.format == "JPEG"
    assert close(colour_at(display, 0.75, 0.25), samples.RED)
    assert close(colour_at(display, 0.5, 0.75), samples.BLUE)


# --- Refusals ----------------------------------------------------------------


@pytest.mark.parametrize("make, expected", [
    (samples.text_as_jpg, "not a photo"),
    (samples.svg_bytes, "not a photo"),
    (samples.gif_bytes, "not a photo"),
    (samples.eps_bytes, "not a photo"),
    (samples.truncated_jpeg, "could not be read"),
    (lambda: samples.png_declaring(30000, 30000), "too many pixels (at most 50 megapixels)"),
    (lambda: samples.big_file(25 * 1024 * 1024), "larger than 20 MB"),
])
def test_hostile_files_are_refused_with_a_message(make, expected):
    with pytest.raises(PhotoError) as caught:
        run(make())
    assert expected in str(caught.value.message)
    assert str(caught.value) == str(caught.value.message)


@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_cut_off_uploads_are_called_damaged(name):
    data = GOOD_SAMPLES[name]()
    for fraction in (0.3, 0.6, 0.9):
        with pytest.raises(PhotoError, match="could not be read"):
            run(data[: int(len(data) * fraction)])


def test_pixel_cap_is_checked_from_the_header_without_decoding(monkeypatch):
    data = samples.png_declaring(8000, 7000)  # 56 MP claimed, a few bytes of pixel data

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the image was decoded")

    with monkeypatch.context() as m:
        m.setattr(ImageFile.ImageFile, "load", no_decoding)
        m.setattr(Image.Image, "load", no_decoding)
        with pytest.raises(PhotoError, match="too many pixels"):
            run(data)
    # Under a higher cap the header passes and only the decoding fails.
    with pytest.raises(PhotoError, match="could not be read"):
        run(data, max_pixels=60_000_000)


def test_pixel_cap_boundary():
    data = samples.jpeg_with_orientation_and_gps(1200, 800)
    assert run(data, max_pixels=1200 * 800).width == 800
    with pytest.raises(PhotoError, match="at most 0.5 megapixels"):
        run(data, max_pixels=500_000)


def test_pillows_bomb_warning_is_a_refusal_too():
    # 100 MP is above Pillow's warning threshold (~89 MP) but below its error.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak out as a warning
        with pytest.raises(PhotoError, match="too many pixels"):
            run(samples.png_declaring(10000, 10000), max_pixels=200_000_000)


def test_byte_cap_is_exact():
    data = samples.jpeg_with_orientation_and_gps(64, 48)
    assert run(data, max_bytes=len(data)).width == 48
    with pytest.raises(PhotoError, match="larger than"):
        run(data, max_bytes=len(data) - 1)


# --- Storage -----------------------------------------------------------------


def test_keys_are_random_and_filesystem_safe():
    keys = {photos.new_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(photos.KEY_PATTERN.fullmatch(key) and len(key) <= 64 for key in keys)


def test_local_storage_round_trip(tmp_path):
    store = LocalStorage(tmp_path / "photos")
    key = photos.new_key()
    assert not store.exists(key, "display")
    store.put(key, "display", b"one")
    store.put(key, "display", b"two")  # replaces
    store.put(key, "thumb", b"small")
    path = store.path(key, "display")
    assert path.read_bytes() == b"two" and path.parent.name == key[:2]
    assert store.exists(key, "display") and store.exists(key, "thumb")
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == [f"{key}.display.jpg", f"{key}.thumb.jpg"]  # no temporary files left
    store.delete(key)
    store.delete(key)  # missing files are fine
    assert not store.exists(key, "display") and not store.exists(key, "thumb")


def test_local_storage_refuses_odd_keys_and_renditions(tmp_path):
    store = LocalStorage(tmp_path)
    for key in ("../../etc/passwd", "short", "a" * 65, "abc/def" * 4, ""):
        with pytest.raises(ValueError):
            store.put(key, "display", b"x")
    with pytest.raises(ValueError):
        store.path(photos.new_key(), "original")


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path)
    key = photos.new_key()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(photos.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.put(key, "display", b"data")
    assert not store.exists(key, "display")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.fixture
def photo_app(app):
    if "photo_storage" not in app.extensions:  # until create_app calls init_app
        photos.init_app(app)
    return app


def test_init_app_storage_location(photo_app, app_factory, tmp_path):
    with photo_app.app_context():
        assert photos.storage().root == tmp_path / "instance" / "photos"
    other = app_factory(PHOTO_STORAGE_PATH=str(tmp_path / "elsewhere"))
    photos.init_app(other)
    with other.app_context():
        assert photos.storage().root == tmp_path / "elsewhere"


def stored_files(app) -> list:
    root = app.extensions["photo_storage"].root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def make_observation_and_user() -> tuple[Observation, User]:
    user = User(email="walker@example.se", name="Walker", role=Role.walker)
    category = db.session.scalars(db.select(Category).order_by(Category.id)).first()
    observation = Observation(lat=62.6323, lon=17.9379, category=category, reporter=user)
    db.session.add_all([user, observation])
    db.session.commit()
    return observation, user


@pytest.fixture
def two_photos() -> list[ProcessedPhoto]:
    return [run(samples.jpeg_with_orientation_and_gps()), run(samples.webp_bytes())]


def test_save_photos_writes_rows_and_files(photo_app, two_photos):
    with photo_app.app_context():
        observation, user = make_observation_and_user()
        saved = photos.save_photos(observation, two_photos, user, stage=PhotoStage.after)
        db.session.commit()
        store = photos.storage()
        for photo, item in zip(saved, two_photos):
            assert photo.id is not None and photo.observation_id == observation.id
            assert (photo.width, photo.height) == (item.width, item.height)
            assert photo.stage is PhotoStage.after
            assert photo.uploader_id == user.id
            assert store.path(photo.storage_key, "display").read_bytes() == item.display
            assert store.path(photo.storage_key, "thumb").read_bytes() == item.thumbnail
        db.session.expire_all()
        assert [p.storage_key for p in observation.photos] == [p.storage_key for p in saved]
    assert len(stored_files(photo_app)) == 4


class FailingStorage(LocalStorage):
    """Local storage whose n-th put fails, as a full disk would."""

    def __init__(self, root, fail_at: int):
        super().__init__(root)
        self.fail_at = fail_at
        self.calls = 0

    def put(self, key, rendition, data):
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError("No space left on device")
        super().put(key, rendition, data)


def assert_nothing_saved(app):
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Photo.id))) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_failed_file_write_saves_nothing(photo_app, two_photos, fail_at):
    store = FailingStorage(photo_app.extensions["photo_storage"].root, fail_at)
    photo_app.extensions["photo_storage"] = store
    with photo_app.app_context():
        observation, user = make_observation_and_user()
        with pytest.raises(OSError, match="No space"):
            photos.save_photos(observation, two_photos, user)
        assert store.calls == fail_at
    assert_nothing_saved(photo_app)


def test_failed_commit_saves_nothing(photo_app, two_photos, monkeypatch):
    # Both photos get the same key: the unique constraint fails at commit,
    # after every file has been written.
    key = photos.new_key()
    monkeypatch.setattr(photos, "new_key", lambda: key)
    with photo_app.app_context():
        observation, user = make_observation_and_user()
        photos.save_photos(observation, two_photos, user)
        assert stored_files(photo_app)  # written before the rows commit
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert observation.photos == []  # the session was rolled back and is usable
    assert_nothing_saved(photo_app)


@pytest.mark.parametrize("ending", ["rollback", "close"])
def test_failure_after_save_leaves_neither_row_nor_file(photo_app, two_photos, ending):
    """The caller's work fails after the photos were stored: its rollback, or a session closed
    without commit (a request that raised), removes the files with the rows."""
    with photo_app.app_context():
        observation, user = make_observation_and_user()
        photos.save_photos(observation, two_photos, user)
        db.session.flush()
        assert len(stored_files(photo_app)) == 4
        if ending == "rollback":
            db.session.rollback()
        else:
            db.session.close()
    assert_nothing_saved(photo_app)


def test_committed_photos_stay_after_later_rollbacks(photo_app, two_photos):
    with photo_app.app_context():
        observation, user = make_observation_and_user()
        photos.save_photos(observation, two_photos, user)
        db.session.commit()
        db.session.rollback()
        db.session.close()
    assert len(stored_files(photo_app)) == 4
