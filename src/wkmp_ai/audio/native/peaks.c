/* Essentia's SpectralPeaks (PeakDetection on linear magnitudes, parabolic interpolation, ordered by
 * magnitude) for many frames at once: the arithmetic of the NumPy version in
 * wkmp_ai/audio/spectral.py (TonalFrames._peaks), operation for operation, so the results are the
 * same bit for bit. There, ranking the ~150 peaks of every frame took a global three-key sort that
 * cost more than the rest of the key chain together (docs/audio.md, "Musical flavor"); here each
 * frame keeps its loudest peaks in a small sorted buffer as it is scanned.
 *
 * Built with biquads.c by scripts/install.sh (cc -O3 -ffp-contract=off); loaded by
 * wkmp_ai/audio/kernels.py.
 */
#include <math.h>
#include <stddef.h>

#define MAX_KEPT 256

/* For each of `frames` rows of `spec` (row r at spec + r * stride): the peaks among bins
 * lo .. hi (a bin in lo+1 .. hi strictly above both neighbours and above `threshold`, interpolated,
 * kept when its position is at most max_hz; bin lo itself when it is above bin lo+1 and the
 * threshold, uninterpolated), the `keep` loudest (ties: the lower bin first) written to
 * freqs/mags (frames x keep, loudest first, NaN after the last). The caller ensures hi + 1 < stride.
 * Returns 0, or -1 when keep is 0 or above MAX_KEPT. */
int spectral_peaks_f64(const double *spec, size_t frames, size_t stride, size_t lo, size_t hi, double threshold,
                       double bin_hz, double max_hz, size_t keep, double *freqs, double *mags) {
    if (keep == 0 || keep > MAX_KEPT) return -1;
    double value[MAX_KEPT], where[MAX_KEPT];
    for (size_t r = 0; r < frames; r++) {
        const double *s = spec + r * stride;
        size_t count = 0;
        for (size_t bin = lo; bin <= hi; bin++) {
            double v, position;
            if (bin == lo) {
                if (!(s[lo] > s[lo + 1] && s[lo] > threshold)) continue;
                v = s[lo];
                position = (double)lo * bin_hz;
            } else {
                double below = s[bin - 1], top = s[bin], above = s[bin + 1];
                if (!(top > below && top > above && top > threshold)) continue;
                double delta = 0.5 * (below - above) / (below - 2.0 * top + above);
                v = top - 0.25 * (below - above) * delta;
                position = ((double)bin + delta) * bin_hz;
                if (!(position <= max_hz)) continue;
            }
            /* Insert after every kept peak at least as loud: candidates come in rising bin order. */
            if (count == keep && !(v > value[count - 1])) continue;
            size_t j = count < keep ? count++ : keep - 1;
            while (j > 0 && value[j - 1] < v) {
                value[j] = value[j - 1];
                where[j] = where[j - 1];
                j--;
            }
            value[j] = v;
            where[j] = position;
        }
        double *f = freqs + r * keep, *m = mags + r * keep;
        for (size_t k = 0; k < keep; k++) {
            f[k] = k < count ? where[k] : NAN;
            m[k] = k < count ? value[k] : NAN;
        }
    }
    return 0;
}
