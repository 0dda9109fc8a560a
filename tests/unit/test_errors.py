"""Error codes and the one exception type."""

import pickle

from wkmp_ai.errors import ErrorCode, IngestError, Severity


def test_severities() -> None:
    assert ErrorCode.DECODE_ERROR.severity is Severity.SKIP_FILE
    assert ErrorCode.ANALYSIS_TIMEOUT.severity is Severity.SKIP_FILE
    assert ErrorCode.MISSING_ALBUM_ART.severity is Severity.WARNING
    assert ErrorCode.DATABASE_ERROR.severity is Severity.CRITICAL
    assert ErrorCode.DISK_FULL.severity is Severity.CRITICAL


def test_every_code_has_a_label_in_plain_words() -> None:
    from wkmp_ai.errors import error_label

    labels = {code: code.label for code in ErrorCode}  # a KeyError here: a code added without one
    assert len(set(labels.values())) == len(labels), "two codes would read the same"
    for code, label in labels.items():
        assert label and label[0].isupper() and "_" not in label and not label.endswith("."), (code, label)
        assert label != code.value and len(label) <= 40, (code, label)
    assert error_label("NOT_AUDIO") == "Not audio"
    assert error_label("SOME_OLD_CODE") == "SOME_OLD_CODE"  # an older database's code is shown as it is


def test_ingest_error_survives_pickling_between_processes() -> None:
    error = IngestError(ErrorCode.DECODE_ERROR, "no audio", path="a/b.flac", stage="decode")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.detail, copy.path, copy.stage) == (ErrorCode.DECODE_ERROR, "no audio", "a/b.flac", "decode")
    assert str(copy) == str(error)


def test_plain_message_drops_reprs_and_error_numbers() -> None:
    import av
    from PIL import UnidentifiedImageError

    from wkmp_ai.errors import plain_message

    image = UnidentifiedImageError("cannot identify image file <_io.BytesIO object at 0x7f3a2c1d5e40>")
    assert plain_message(image) == "not an image format that can be read"
    assert plain_message(av.error.EOFError(541478725, "End of file", "/music/a.mp3")) == "End of file"
    assert plain_message(OSError("[Errno 541478725] End of file: '/music/a.mp3'")) == "End of file: '/music/a.mp3'"
    assert plain_message(OSError("image file is truncated (3 bytes not processed)")) == (
        "the image is cut short or damaged"
    )
    assert plain_message(ValueError("can't sync to MPEG frame")) == "can't sync to MPEG frame"
    assert plain_message(ValueError()) == "ValueError"
