"""The analysis of one file: one decode feeding every analyser, then per-passage results.

:func:`analyze_file` is a pure, picklable stage (no database, no globals): a path and the import
parameters in, a small frozen :class:`~wkmp_ai.records.analysis.FileAnalysis` out; no database, no
globals beyond the lazily loaded libraries. It is safe in a ``ProcessPoolExecutor`` worker started
with spawn or forkserver.

The order of work while the file decodes, block by block::

    decode ─┬─ envelopes (loudest channel, A-weighted mono, peaks; per 10 ms hop)
            │     └─ silence tracker ── onset / boundaries / "safe" point ─┐
            ├─ 11025 Hz mono ── fingerprint contexts (opened at each possible passage start)
            └─ flavor features (K-weighted power per hop, 11025 Hz windows)

and once the stream ends: segmentation → per passage amplitude, fingerprint, flavor.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from wkmp_ai import params as P
from wkmp_ai.audio.amplitude import AmplitudeResult, analyze_range
from wkmp_ai.audio.chromaprint import SAMPLE_RATE as FP_RATE
from wkmp_ai.audio.decode import AudioDecoder, StreamInfo, frames_per_block, open_audio
from wkmp_ai.audio.envelope import FrameAnalyzer, hop_samples
from wkmp_ai.audio.fingerprint import FingerprintResult, FingerprintScheduler
from wkmp_ai.audio.peaks import PeaksCollector
from wkmp_ai.audio.planned import PassagePlan, PlannedFingerprints, index_plan, unfit_warning
from wkmp_ai.audio.silence import SilenceTracker, quiet_edges
from wkmp_ai.errors import ErrorCode
from wkmp_ai.records.analysis import AmplitudeAnalysis, AnalysisWarning, FileAnalysis, PassageAnalysis, lead_ticks
from wkmp_ai.records.trackindex import IndexFinder
from wkmp_ai.ticks import seconds_to_ticks

__all__ = ["AMPLITUDE_KEYS", "analyze_amplitude", "analyze_file", "effective_parameters"]

log = logging.getLogger(__name__)

AMPLITUDE_KEYS = (
    "rms_window_ms",
    "lead_in_threshold_db",
    "lead_out_threshold_db",
    "quick_ramp_threshold",
    "quick_ramp_duration_s",
    "max_lead_in_duration_s",
    "max_lead_out_duration_s",
    "apply_a_weighting",
)
SEGMENTATION_KEYS = ("silence_threshold_db", "min_silence_duration_ms", "min_passage_duration_s", "source_media")
QUIET_MESSAGE = "Passage may be too quiet for accurate amplitude analysis"
CLIPPING_MESSAGE = "Audio clipping detected, amplitude analysis may be inaccurate"


def effective_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with ``params``; raises :class:`~wkmp_ai.params.ParameterError` on a bad value."""
    return P.validate({**P.defaults(), **dict(params)})


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _channel_names(info: StreamInfo) -> list[str]:
    try:
        names = [channel.name for channel in av.AudioLayout(info.layout).channels]
    except (ValueError, TypeError):
        names = []
    return names if len(names) == info.channels else [f"C{i}" for i in range(info.channels)]


class _Pipeline:
    """Wires one decode to the analysers and relays the silence tracker's events."""

    def __init__(
        self,
        audio: AudioDecoder,
        params: Mapping[str, Any],
        *,
        flavor: bool,
        plan: PassagePlan | None,
        peaks: bool = False,
    ):
        info = audio.info
        self.audio = audio
        self.rate = info.sample_rate
        self.flavor = None
        self.flavor_problem: str | None = None
        loudness = None
        if flavor:
            try:
                from wkmp_ai.audio.flavor import FlavorCollector, loudness_filter

                self.flavor = FlavorCollector(self.rate, hop_samples(self.rate))
                loudness = loudness_filter(self.rate, _channel_names(info))
            except (ImportError, RuntimeError) as exc:  # Essentia missing or broken: no flavor, say so
                self.flavor_problem = f"Essentia is not available: {exc}"
        # The flavor's loudness and centroid sums are made with the envelopes, in the same pass.
        self.frames = FrameAnalyzer(
            info.sample_rate, info.channels, a_weighting=params["apply_a_weighting"], loudness=loudness
        )
        self.min_passage = round(params["min_passage_duration_s"] * self.rate)
        self.tracker = silence_tracker(params, self.rate, self.frames.hop)
        self.plan = plan
        self.fingerprints = (
            FingerprintScheduler(sample_rate=self.rate, min_passage=self.min_passage)
            if plan is None
            else PlannedFingerprints(sample_rate=self.rate, starts=plan.starts)
        )
        # Waveform peaks for the segment editor, from the same mix (docs/editor.md).
        self.peaks = PeaksCollector(self.rate, scale=1.0 / info.channels) if peaks else None
        self._onset_sent = False

    def run(self) -> None:
        self.fingerprints.begin()
        for start in self.plan.starts if self.plan else ():
            self._flavor("cut", start)
        for block in self.audio.blocks(block_frames=frames_per_block(self.audio.info.channels, self.frames.hop)):
            loud, block.summed = self.frames.push(block.pcm)  # the channel sum, made once for all
            if self.peaks is not None:
                self.peaks.push(block.channel_sum)
            if block.final:
                loud = np.concatenate([loud, self.frames.finish()])
            boundaries = self.tracker.update(loud)
            if isinstance(self.fingerprints, PlannedFingerprints):
                self.fingerprints.prepare(block.start + block.frames)
            # The 11025 Hz stream is made only where a fingerprint may need it (or flavor, everywhere).
            # It goes in before the block's boundaries are relayed: a passage that a boundary in this
            # block ends has its context closed then, and must have had the audio up to it first
            # (and the passage a boundary starts takes the block's audio from the ring buffer).
            if self.flavor is not None or boundaries or self._fingerprint_may_need_audio():
                index, fp_pcm = self.audio.fingerprint_samples(block)
                self.fingerprints.feed(index, fp_pcm)
                self._flavor("push_stream", index, fp_pcm)
            self._relay(boundaries)
        self.tracker.finish(self.frames.total_samples)
        self._relay([])
        self._flavor("finish", self.frames.loudness_sums())

    def _flavor(self, method: str, *args: Any) -> None:
        """Call the flavor stage; if Essentia fails, the file goes on without flavor (and says so)."""
        if self.flavor is None:
            return
        try:
            getattr(self.flavor, method)(*args)
        except (RuntimeError, ValueError) as exc:  # what Essentia raises for input it cannot handle
            log.warning("%s: flavor analysis failed: %s", self.audio.path, exc)
            self.flavor = None
            self.flavor_problem = f"flavor analysis failed: {exc}"

    def _fingerprint_may_need_audio(self) -> bool:
        tracker = self.tracker
        return (
            tracker.saw_silence  # a boundary may fall in a silence that started here
            or tracker.run_start is not None
            or self.fingerprints.wants_audio
        )

    def _relay(self, boundaries: list[int]) -> None:
        if self.plan is not None:  # the boundaries are known: everything decoded so far is final
            self._flavor("safe", self.frames.total_samples)
            return
        onset = self.tracker.onset
        if onset is not None and not self._onset_sent:
            self._onset_sent = True
            self.fingerprints.onset(onset)
        for boundary in boundaries:
            self.fingerprints.boundary(boundary)
        safe = self.tracker.safe_sample
        self.fingerprints.safe(safe)
        # Flavor windows are cut only where a passage will start, so that merged short pieces (a
        # beat, a click) do not chop the windows; none may straddle a start still undecided.
        for start in self.fingerprints.take_passage_starts():
            self._flavor("cut", start)
        undecided = self.fingerprints.undecided_start
        self._flavor("safe", safe if undecided is None else min(safe, undecided))


def silence_tracker(params: Mapping[str, Any], rate: int, hop: int) -> SilenceTracker:
    """The silence tracker every analysis of a file uses, from the import parameters."""
    return SilenceTracker(
        threshold_db=params["silence_threshold_db"],
        min_silence=round(params["min_silence_duration_ms"] / 1000 * rate),
        hop=hop,
    )


def analyze_file(
    path: Path | str,
    params: Mapping[str, Any],
    *,
    flavor: bool = True,
    find_index: IndexFinder | None = None,
    peaks: bool = False,
) -> FileAnalysis:
    """Decode ``path`` once and return its passages with lead-in/out, fingerprints and flavor.

    Passage boundaries come from the rip's own track index when ``find_index`` finds one (the
    import passes :func:`wkmp_ai.scan.findindex.find_track_index`), else from silences. Raises
    :class:`~wkmp_ai.errors.IngestError` (``DECODE_ERROR`` or ``FILE_UNREADABLE``) when the file
    yields no audio. A decoding error after some audio is a
    ``PARTIAL_DECODE`` warning.
    """
    params = effective_parameters(params)
    path = Path(path)
    analyzed_at = _now()
    warnings: list[AnalysisWarning] = []
    with open_audio(path) as audio:
        plan = index_plan(path, audio, warnings, find_index) if find_index else None
        pipeline = _Pipeline(audio, params, flavor=flavor, plan=plan, peaks=peaks)
        pipeline.run()
        info = audio.info
        problems = audio.problems
    env = pipeline.frames.envelopes()
    total = env.total_samples
    rate = info.sample_rate
    if plan is not None and (why := plan.fits(total, rate)) is not None:
        # The declared length fitted, the decoded one does not (a truncated file): decode again.
        again = analyze_file(path, params, flavor=flavor, peaks=peaks)
        return replace(again, warnings=(unfit_warning(plan.source, why), *again.warnings))
    if plan is not None:
        segmentation = plan.segmentation(total, pipeline.tracker.silences)
        exact_ticks: list[tuple[int, int]] | None = plan.ticks(total, rate)
    else:
        segmentation = pipeline.tracker.segmentation(total, min_passage=pipeline.min_passage)
        exact_ticks = None
    fingerprints = pipeline.fingerprints.results(list(segmentation.passages), silent=segmentation.all_silent)
    if problems:
        warnings.append(AnalysisWarning(ErrorCode.PARTIAL_DECODE, f"damaged audio: {problems.describe()}"))
    passages = []
    count = len(segmentation.passages)
    for index, ((start, end), fp) in enumerate(zip(segmentation.passages, fingerprints, strict=True)):
        head, tail = quiet_edges(segmentation.silences, start, end)
        amplitude = analyze_range(env, start, end, params, quiet_head=head, quiet_tail=tail)
        flavor_result = None
        flavor_problem = pipeline.flavor_problem if flavor and pipeline.flavor is None else None
        if pipeline.flavor is not None and not segmentation.all_silent:
            try:
                flavor_result = pipeline.flavor.passage(start, end)
            except (RuntimeError, ValueError) as exc:  # what Essentia raises for input it cannot handle
                flavor_problem = f"flavor analysis failed: {exc}"
            if flavor_result is None and flavor_problem is None and not amplitude.quiet:
                flavor_problem = "no flavor: the passage has no measurable loudness"
        if flavor_problem:
            warnings.append(AnalysisWarning(ErrorCode.FLAVOR_FAILED, flavor_problem, index))
        warnings += _passage_warnings(index, amplitude, fp)
        meta = _import_metadata(
            params, amplitude, fp, flavor_result, analyzed_at, index=index, count=count, env_hop_s=env.hop_s
        )
        meta["segmentation"]["candidates"] = len(segmentation.candidates)
        meta["segmentation"]["boundary_source"] = plan.source if plan else "silence"
        if plan is not None:
            meta["segmentation"]["track_number"] = plan.index.tracks[index].number
            meta["segmentation"]["index_origin"] = plan.index.origin
        ticks = exact_ticks[index] if exact_ticks else None
        passages.append(_passage(start / rate, end / rate, amplitude, fp, flavor_result, meta, ticks=ticks))
    return FileAnalysis(
        path=str(path),
        format=info.format,
        codec=info.codec,
        sample_rate=rate,
        channels=info.channels,
        duration_s=total / rate,
        passages=tuple(passages),
        warnings=tuple(warnings),
        track_index=plan.index if plan else None,
        peaks=pipeline.peaks.finish() if pipeline.peaks is not None else None,
    )


def _passage(
    start_s: float,
    end_s: float,
    amplitude: AmplitudeResult,
    fp: FingerprintResult,
    flavor: dict[str, Any] | None,
    meta: dict[str, Any],
    *,
    ticks: tuple[int, int] | None = None,
) -> PassageAnalysis:
    start_ticks, end_ticks = ticks or (seconds_to_ticks(start_s), seconds_to_ticks(end_s))
    lead_in_ticks, lead_out_ticks = lead_ticks(start_ticks, end_ticks, amplitude.lead_in_s, amplitude.lead_out_s)
    return PassageAnalysis(
        start_s=start_s,
        end_s=end_s,
        start_ticks=start_ticks,
        end_ticks=end_ticks,
        lead_in_s=amplitude.lead_in_s,
        lead_out_s=amplitude.lead_out_s,
        lead_in_start_ticks=lead_in_ticks,
        lead_out_start_ticks=lead_out_ticks,
        peak_rms=round(amplitude.peak_rms, 6),
        quick_ramp_up=amplitude.quick_ramp_up,
        quick_ramp_down=amplitude.quick_ramp_down,
        fingerprint=fp.fingerprint,
        fingerprint_raw=fp.raw,
        fingerprint_duration_s=round(fp.duration_s, 4),
        flavor=flavor,
        import_metadata=meta,
    )


def _passage_warnings(index: int, amplitude: AmplitudeResult, fp: FingerprintResult) -> list[AnalysisWarning]:
    out = []
    if amplitude.quiet:
        out.append(AnalysisWarning(ErrorCode.QUIET_PASSAGE, QUIET_MESSAGE, index))
    if amplitude.clipped:
        out.append(AnalysisWarning(ErrorCode.CLIPPING_DETECTED, CLIPPING_MESSAGE, index))
    if fp.fingerprint is None:
        out.append(AnalysisWarning(ErrorCode.FINGERPRINT_FAILED, f"no fingerprint: {fp.problem}", index))
    return out


def _import_metadata(
    params: Mapping[str, Any],
    amplitude: AmplitudeResult,
    fp: FingerprintResult,
    flavor: dict[str, Any] | None,
    analyzed_at: str,
    *,
    index: int,
    count: int,
    env_hop_s: float,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "amplitude_analysis": {
            "peak_rms": round(amplitude.peak_rms, 6),
            "lead_in_detected_s": amplitude.lead_in_s,
            "lead_out_detected_s": amplitude.lead_out_s,
            "quick_ramp_up": amplitude.quick_ramp_up,
            "quick_ramp_down": amplitude.quick_ramp_down,
            "parameters_used": {key: params[key] for key in AMPLITUDE_KEYS},
            "analyzed_at": analyzed_at,
            "method": "ramp-end",
            "hop_s": round(env_hop_s, 6),
            "too_quiet": amplitude.quiet,
            "clipping_detected": amplitude.clipped,
            **amplitude.detail,
        },
        "segmentation": {
            "passage_index": index,
            "passage_count": count,
            "parameters_used": {key: params[key] for key in SEGMENTATION_KEYS},
        },
        "fingerprint": {
            "algorithm": "chromaprint",
            "sample_rate": FP_RATE,
            "duration_s": round(fp.duration_s, 4),
            "items": len(fp.raw),
        },
    }
    if flavor is not None:
        meta["flavor"] = {"source": flavor["source"], "descriptors": flavor["descriptors"]}
    return meta


def analyze_amplitude(
    path: Path | str, start_s: float, end_s: float | None, params: Mapping[str, Any]
) -> AmplitudeAnalysis:
    """Amplitude analysis of seconds [start_s, end_s) of ``path`` (the same code as :func:`analyze_file`).

    ``end_s`` None or beyond the end means the end of the file. Raises ``ValueError`` for an empty or
    negative range, :class:`~wkmp_ai.errors.IngestError` when the file cannot be decoded.
    """
    params = effective_parameters(params)
    if start_s < 0 or (end_s is not None and end_s <= start_s):
        raise ValueError(f"invalid time range: start {start_s} s, end {end_s} s")
    path = Path(path)
    with open_audio(path) as audio:
        rate = audio.info.sample_rate
        frames = FrameAnalyzer(rate, audio.info.channels, a_weighting=params["apply_a_weighting"])
        # Silences as analyze_file finds them: a range that starts or ends in one has quiet edges.
        tracker = silence_tracker(params, rate, frames.hop)
        stop = None if end_s is None else round(end_s * rate)
        for block in audio.blocks(block_frames=frames_per_block(audio.info.channels, frames.hop)):
            tracker.update(frames.push(block.pcm)[0])
            if stop is not None and frames.total_samples >= stop + frames.hop:
                break
        else:
            tracker.update(frames.finish())
        problems = audio.problems
    env = frames.envelopes()
    tracker.finish(env.total_samples)
    start = round(start_s * rate)
    end = env.total_samples if stop is None else min(stop, env.total_samples)
    if start >= end:
        raise ValueError(f"start {start_s} s is at or beyond the end of the audio ({env.total_samples / rate:.3f} s)")
    head, tail = quiet_edges(tracker.silences, start, end)
    result = analyze_range(env, start, end, params, quiet_head=head, quiet_tail=tail)
    warnings = []
    if problems:
        warnings.append(AnalysisWarning(ErrorCode.PARTIAL_DECODE, f"damaged audio: {problems.describe()}"))
    if result.quiet:
        warnings.append(AnalysisWarning(ErrorCode.QUIET_PASSAGE, QUIET_MESSAGE))
    if result.clipped:
        warnings.append(AnalysisWarning(ErrorCode.CLIPPING_DETECTED, CLIPPING_MESSAGE))
    return AmplitudeAnalysis(
        file_path=str(path),
        start_s=start / rate,
        end_s=end / rate,
        peak_rms=round(result.peak_rms, 6),
        lead_in_s=result.lead_in_s,
        lead_out_s=result.lead_out_s,
        quick_ramp_up=result.quick_ramp_up,
        quick_ramp_down=result.quick_ramp_down,
        rms_profile=result.rms_profile,
        rms_profile_interval_s=round(result.profile_interval_s, 6),
        warnings=tuple(warnings),
        analyzed_at=_now(),
    )
