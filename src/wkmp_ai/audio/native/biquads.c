/* Cascaded biquads (second-order sections) over float32 rows, carrying the state: in place
 * (biquads_f32), or summing the filtered power per hop without storing it (biquads_power_f32); and
 * the per-hop energy of a signal and of its first difference (energy_slope_f32).
 *
 * The same arithmetic, in the same order, as SciPy's sosfilt (transposed direct form II), so the
 * results are identical bit for bit; docs/audio.md, "Performance and memory", says why this exists:
 * SciPy's kernel keeps the filter state in memory and filters one row at a time, so every sample
 * waits on the one before it; here the state lives in registers and two rows (the channels of a
 * stereo block) are filtered in one loop, two independent chains the processor runs side by side.
 *
 * Built with peaks.c by scripts/install.sh (cc -O3 -ffp-contract=off); loaded by wkmp_ai/audio/kernels.py;
 * wkmp_ai/audio/iir.py falls back to SciPy when it is missing. No FMA and no -ffast-math: the order of the
 * roundings is SciPy's.
 */
#include <stddef.h>

#define MAX_SECTIONS 4

typedef struct { float b0, b1, b2, a1, a2; } section;

static void load(const float *sos, int sections, section *s) {
    for (int k = 0; k < sections; k++) {
        s[k].b0 = sos[6 * k + 0]; s[k].b1 = sos[6 * k + 1]; s[k].b2 = sos[6 * k + 2];
        s[k].a1 = sos[6 * k + 4]; s[k].a2 = sos[6 * k + 5];
    }
}

/* One step of one section for one chain: y from x, the state (z0, z1) updated as SciPy does. */
#define STEP(S, X, Z0, Z1, Y)                            \
    do {                                                 \
        float y_ = (S).b0 * (X) + (Z0);                  \
        (Z0) = (S).b1 * (X) - (S).a1 * y_ + (Z1);        \
        (Z1) = (S).b2 * (X) - (S).a2 * y_;               \
        (Y) = y_;                                        \
    } while (0)

/* One row through N sections (N a compile-time constant, so the state stays in registers). */
#define ONE_ROW(N)                                                                  \
    static void one_row_##N(const section *s, float *x, size_t n, float *zi) {      \
        float z0[N], z1[N];                                                         \
        for (int k = 0; k < N; k++) { z0[k] = zi[2 * k]; z1[k] = zi[2 * k + 1]; }    \
        for (size_t i = 0; i < n; i++) {                                            \
            float v = x[i];                                                         \
            for (int k = 0; k < N; k++) STEP(s[k], v, z0[k], z1[k], v);             \
            x[i] = v;                                                               \
        }                                                                           \
        for (int k = 0; k < N; k++) { zi[2 * k] = z0[k]; zi[2 * k + 1] = z1[k]; }    \
    }

/* Two rows side by side through N sections. */
#define TWO_ROWS(N)                                                                           \
    static void two_rows_##N(const section *s, float *x, float *w, size_t n, float *zx, float *zw) { \
        float p0[N], p1[N], q0[N], q1[N];                                                     \
        for (int k = 0; k < N; k++) {                                                         \
            p0[k] = zx[2 * k]; p1[k] = zx[2 * k + 1]; q0[k] = zw[2 * k]; q1[k] = zw[2 * k + 1]; \
        }                                                                                     \
        for (size_t i = 0; i < n; i++) {                                                      \
            float u = x[i], v = w[i];                                                         \
            for (int k = 0; k < N; k++) {                                                     \
                STEP(s[k], u, p0[k], p1[k], u);                                               \
                STEP(s[k], v, q0[k], q1[k], v);                                               \
            }                                                                                 \
            x[i] = u;                                                                         \
            w[i] = v;                                                                         \
        }                                                                                     \
        for (int k = 0; k < N; k++) {                                                         \
            zx[2 * k] = p0[k]; zx[2 * k + 1] = p1[k]; zw[2 * k] = q0[k]; zw[2 * k + 1] = q1[k]; \
        }                                                                                     \
    }

ONE_ROW(1) ONE_ROW(2) ONE_ROW(3) ONE_ROW(4)
TWO_ROWS(1) TWO_ROWS(2) TWO_ROWS(3) TWO_ROWS(4)

/* The power per hop of N-section-filtered rows, without writing the filtered samples anywhere:
 * out[h] += sum over rows r of weight[r] * (sum of y^2 over hop h), accumulated in double. */
#define POWER_ROWS(N)                                                                          \
    static void power_rows_##N(const section *s, const float *x, size_t rows, size_t n,         \
                               size_t stride, float *zi, const double *weight, size_t hop,     \
                               double *out) {                                                  \
        size_t r = 0;                                                                          \
        for (; r + 1 < rows; r += 2) {                                                         \
            const float *a = x + r * stride, *b = x + (r + 1) * stride;                        \
            float *za = zi + r * 2 * N, *zb = zi + (r + 1) * 2 * N;                            \
            float p0[N], p1[N], q0[N], q1[N];                                                  \
            for (int k = 0; k < N; k++) {                                                      \
                p0[k] = za[2 * k]; p1[k] = za[2 * k + 1]; q0[k] = zb[2 * k]; q1[k] = zb[2 * k + 1]; \
            }                                                                                  \
            for (size_t start = 0, h = 0; start < n; start += hop, h++) {                      \
                size_t end = start + hop < n ? start + hop : n;                                \
                double sa = 0.0, sb = 0.0;                                                     \
                for (size_t i = start; i < end; i++) {                                         \
                    float u = a[i], v = b[i];                                                  \
                    for (int k = 0; k < N; k++) {                                              \
                        STEP(s[k], u, p0[k], p1[k], u);                                        \
                        STEP(s[k], v, q0[k], q1[k], v);                                        \
                    }                                                                          \
                    sa += (double)u * u;                                                       \
                    sb += (double)v * v;                                                       \
                }                                                                              \
                out[h] += weight[r] * sa + weight[r + 1] * sb;                                 \
            }                                                                                  \
            for (int k = 0; k < N; k++) {                                                      \
                za[2 * k] = p0[k]; za[2 * k + 1] = p1[k]; zb[2 * k] = q0[k]; zb[2 * k + 1] = q1[k]; \
            }                                                                                  \
        }                                                                                      \
        if (r < rows) {                                                                        \
            const float *a = x + r * stride;                                                   \
            float *za = zi + r * 2 * N;                                                        \
            float p0[N], p1[N];                                                                \
            for (int k = 0; k < N; k++) { p0[k] = za[2 * k]; p1[k] = za[2 * k + 1]; }           \
            for (size_t start = 0, h = 0; start < n; start += hop, h++) {                      \
                size_t end = start + hop < n ? start + hop : n;                                \
                double sa = 0.0;                                                               \
                for (size_t i = start; i < end; i++) {                                         \
                    float u = a[i];                                                            \
                    for (int k = 0; k < N; k++) STEP(s[k], u, p0[k], p1[k], u);                 \
                    sa += (double)u * u;                                                       \
                }                                                                              \
                out[h] += weight[r] * sa;                                                      \
            }                                                                                  \
            for (int k = 0; k < N; k++) { za[2 * k] = p0[k]; za[2 * k + 1] = p1[k]; }           \
        }                                                                                      \
    }

POWER_ROWS(1) POWER_ROWS(2) POWER_ROWS(3) POWER_ROWS(4)

/* Weighted power per hop of the filtered rows (x is only read; the last hop may be partial):
 * out[h] += sum_r weight[r] * sum over hop h of y_r^2, out holding ceil(n / hop) doubles.
 * Returns 0, or -1 for `sections` outside 1..MAX_SECTIONS or hop 0 (nothing touched). */
int biquads_power_f32(const float *sos, int sections, const float *x, size_t rows, size_t n, size_t stride,
                      float *zi, const double *weight, size_t hop, double *out) {
    section s[MAX_SECTIONS];
    if (sections < 1 || sections > MAX_SECTIONS || hop == 0) return -1;
    load(sos, sections, s);
    switch (sections) {
        case 1: power_rows_1(s, x, rows, n, stride, zi, weight, hop, out); break;
        case 2: power_rows_2(s, x, rows, n, stride, zi, weight, hop, out); break;
        case 3: power_rows_3(s, x, rows, n, stride, zi, weight, hop, out); break;
        default: power_rows_4(s, x, rows, n, stride, zi, weight, hop, out); break;
    }
    return 0;
}

/* Filter `rows` rows of `n` samples (row r starts at x + r * stride) through `sections` sections
 * (SciPy's layout: b0 b1 b2 a0 a1 a2 per section, a0 == 1); zi holds rows x sections x 2 states.
 * Returns 0, or -1 when `sections` is outside 1..MAX_SECTIONS (nothing is touched then). */
int biquads_f32(const float *sos, int sections, float *x, size_t rows, size_t n, size_t stride, float *zi) {
    section s[MAX_SECTIONS];
    if (sections < 1 || sections > MAX_SECTIONS) return -1;
    load(sos, sections, s);
    size_t r = 0;
    size_t zs = 2 * (size_t)sections;
    for (; r + 1 < rows; r += 2) {
        float *a = x + r * stride, *b = x + (r + 1) * stride, *za = zi + r * zs, *zb = zi + (r + 1) * zs;
        switch (sections) {
            case 1: two_rows_1(s, a, b, n, za, zb); break;
            case 2: two_rows_2(s, a, b, n, za, zb); break;
            case 3: two_rows_3(s, a, b, n, za, zb); break;
            default: two_rows_4(s, a, b, n, za, zb); break;
        }
    }
    if (r < rows) {
        float *a = x + r * stride, *za = zi + r * zs;
        switch (sections) {
            case 1: one_row_1(s, a, n, za); break;
            case 2: one_row_2(s, a, n, za); break;
            case 3: one_row_3(s, a, n, za); break;
            default: one_row_4(s, a, n, za); break;
        }
    }
    return 0;
}

/* Energy and first-difference energy of samples I and I+1 of X into e0/e1 and d0/d1 (two sums of
 * each, so that the additions overlap), `prev` being the sample before I; and of sample I alone. */
#define ENERGY_PAIR(X, I)                                              \
    do {                                                               \
        float v_ = (X)[I], w_ = (X)[(I) + 1], step_ = v_ - prev, next_ = w_ - v_; \
        e0 += (double)v_ * v_;                                         \
        e1 += (double)w_ * w_;                                         \
        d0 += (double)step_ * step_;                                   \
        d1 += (double)next_ * next_;                                   \
        prev = w_;                                                     \
    } while (0)
#define ENERGY_ONE(X, I)                                               \
    do {                                                               \
        float v_ = (X)[I], step_ = v_ - prev;                          \
        e0 += (double)v_ * v_;                                         \
        d0 += (double)step_ * step_;                                   \
        prev = v_;                                                     \
    } while (0)

/* Per hop of a mono signal x (n samples; `prev` is the sample before x[0]): energy[h] = sum of x^2 and
 * slope[h] = sum of (x[i] - x[i-1])^2, the difference taken in float as NumPy does, the sums in
 * double; the last hop may be partial. The spectral centroid of a passage is their ratio. Returns 0. */
int energy_slope_f32(const float *x, size_t n, float prev, size_t hop, double *energy, double *slope) {
    if (hop == 0) return -1;
    for (size_t start = 0, h = 0; start < n; start += hop, h++) {
        size_t end = start + hop < n ? start + hop : n;
        double e0 = 0.0, e1 = 0.0, d0 = 0.0, d1 = 0.0;
        size_t i = start;
        for (; i + 1 < end; i += 2) ENERGY_PAIR(x, i);
        if (i < end) ENERGY_ONE(x, i);
        energy[h] = e0 + e1;
        slope[h] = d0 + d1;
    }
    return 0;
}

/* The A-weighted power of a mix, the K-weighted power of one or two channels and the energy and
 * slope energy of the mix (energy_slope_f32), per hop, in one pass. The same numbers, bit for bit,
 * as biquads_power_f32 on the mix with weight 1, biquads_power_f32 on the channels with `k_weight`,
 * and energy_slope_f32: the additions and their order are the same; only the loop is shared.
 *
 * Why: each biquad chain waits ~12 cycles per sample on its own state, whatever else the loop
 * does. Here one vector of four lanes (channel 0, channel 1, the mix, unused) goes through the
 * sections, the channels through the K-weighting and the mix through the A-weighting, so both
 * filters cost about what the A-weighting alone costs. A lane with fewer sections than the other
 * passes the rest through identity sections (y = 1·x + 0: exact for finite samples).
 *
 * x: `rows` (1 or 2) rows of n samples, row r at x + r * stride; mix: n samples; prev: the mix's
 * sample before mix[0]. States as biquads_power_f32 takes them (a_zi for one row). a_out, k_out,
 * energy, slope: ceil(n / hop) doubles each, overwritten. Returns 0, or -1 (nothing touched) for
 * rows outside 1..2, sections outside 1..MAX_SECTIONS or hop 0. */
typedef float v4 __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));

int weightings_f32(const float *x, size_t rows, size_t n, size_t stride, const float *mix, float prev,
                   const float *a_sos, int a_sections, float *a_zi, const float *k_sos, int k_sections,
                   float *k_zi, const double *k_weight, size_t hop, double *a_out, double *k_out,
                   double *energy, double *slope) {
    if (rows < 1 || rows > 2 || a_sections < 1 || a_sections > MAX_SECTIONS || k_sections < 1 ||
        k_sections > MAX_SECTIONS || hop == 0)
        return -1;
    section a[MAX_SECTIONS], k[MAX_SECTIONS];
    load(a_sos, a_sections, a);
    load(k_sos, k_sections, k);
    const section identity = {1.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    int depth = a_sections > k_sections ? a_sections : k_sections;
    v4 b0[MAX_SECTIONS], b1[MAX_SECTIONS], b2[MAX_SECTIONS], a1[MAX_SECTIONS], a2[MAX_SECTIONS];
    v4 z0[MAX_SECTIONS], z1[MAX_SECTIONS];
    for (int s = 0; s < depth; s++) {
        section c = s < k_sections ? k[s] : identity, m = s < a_sections ? a[s] : identity;
        b0[s] = (v4){c.b0, c.b0, m.b0, 1.0f};
        b1[s] = (v4){c.b1, c.b1, m.b1, 0.0f};
        b2[s] = (v4){c.b2, c.b2, m.b2, 0.0f};
        a1[s] = (v4){c.a1, c.a1, m.a1, 0.0f};
        a2[s] = (v4){c.a2, c.a2, m.a2, 0.0f};
        z0[s] = (v4){0.0f, 0.0f, 0.0f, 0.0f};
        z1[s] = z0[s];
        if (s < k_sections)
            for (size_t r = 0; r < rows; r++) {
                z0[s][r] = k_zi[r * 2 * k_sections + 2 * s];
                z1[s][r] = k_zi[r * 2 * k_sections + 2 * s + 1];
            }
        if (s < a_sections) {
            z0[s][2] = a_zi[2 * s];
            z1[s][2] = a_zi[2 * s + 1];
        }
    }
    const float *c0 = x, *c1 = rows == 2 ? x + stride : NULL;
#define LANE_STEP(I, ACC, SA)                                                          \
    do {                                                                               \
        v4 u = {c0[I], c1 ? c1[I] : 0.0f, mix[I], 0.0f};                               \
        for (int s = 0; s < depth; s++) {                                              \
            v4 y_ = b0[s] * u + z0[s];                                                 \
            z0[s] = b1[s] * u - a1[s] * y_ + z1[s];                                    \
            z1[s] = b2[s] * u - a2[s] * y_;                                            \
            u = y_;                                                                    \
        }                                                                              \
        v2d d = __builtin_convertvector(__builtin_shufflevector(u, u, 0, 1), v2d);     \
        ACC += d * d;                                                                  \
        SA += (double)u[2] * u[2];                                                     \
    } while (0)
    for (size_t start = 0, h = 0; start < n; start += hop, h++) {
        size_t end = start + hop < n ? start + hop : n;
        v2d kk = {0.0, 0.0};
        double sa = 0.0, e0 = 0.0, e1 = 0.0, d0 = 0.0, d1 = 0.0;
        size_t i = start;
        for (; i + 1 < end; i += 2) { /* the mix's energy in two sums, as energy_slope_f32 */
            ENERGY_PAIR(mix, i);
            LANE_STEP(i, kk, sa);
            LANE_STEP(i + 1, kk, sa);
        }
        if (i < end) {
            ENERGY_ONE(mix, i);
            LANE_STEP(i, kk, sa);
        }
        a_out[h] = sa;
        k_out[h] = rows == 2 ? k_weight[0] * kk[0] + k_weight[1] * kk[1] : k_weight[0] * kk[0];
        energy[h] = e0 + e1;
        slope[h] = d0 + d1;
    }
#undef LANE_STEP
    for (int s = 0; s < k_sections; s++)
        for (size_t r = 0; r < rows; r++) {
            k_zi[r * 2 * k_sections + 2 * s] = z0[s][r];
            k_zi[r * 2 * k_sections + 2 * s + 1] = z1[s][r];
        }
    for (int s = 0; s < a_sections; s++) {
        a_zi[2 * s] = z0[s][2];
        a_zi[2 * s + 1] = z1[s][2];
    }
    return 0;
}

/* The envelope stage without flavor, hop by hop over a block of one or two channels: the mix
 * (channel 0 + channel 1, as NumPy adds the rows; channel 0 itself for one row) written to
 * `mix_out`; its A-weighted power per hop (biquads_power_f32 with weight 1: the same numbers, bit for
 * bit); each channel's energy per hop (sum of x^2 in double) into ch_out[r * hops + h]; and the
 * block's largest and smallest sample (`extremes`: [high, low, 1 if a sample is NaN else 0]).
 *
 * Why: NumPy made the mix, the energies and the extremes in four more passes over the block. Here a
 * vector pass over each hop's samples (still in the cache) makes them, then the A-weighting runs
 * over the hop's mix. A NaN sample shows as a NaN energy. Returns 0, or -1 (nothing touched) for
 * rows outside 1..2, sections outside 1..MAX_SECTIONS or hop 0. */
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static void hop_stats(const float *c0, const float *c1, size_t start, size_t end, float *mix, double *e0,
                      double *e1, float *high, float *low) {
    double s0 = 0.0, s1 = 0.0;
    float hi = *high, lo = *low;
    size_t i = start;
#ifdef __SSE2__
    __m128d a0 = _mm_setzero_pd(), a1 = _mm_setzero_pd(), b0 = _mm_setzero_pd(), b1 = _mm_setzero_pd();
    __m128 vh = _mm_set1_ps(hi), vl = _mm_set1_ps(lo);
    for (; i + 4 <= end; i += 4) {
        __m128 a = _mm_loadu_ps(c0 + i);
        __m128d al = _mm_cvtps_pd(a), ah = _mm_cvtps_pd(_mm_movehl_ps(a, a));
        a0 = _mm_add_pd(a0, _mm_mul_pd(al, al));
        a1 = _mm_add_pd(a1, _mm_mul_pd(ah, ah));
        __m128 top = a, bottom = a;
        if (c1) {
            __m128 b = _mm_loadu_ps(c1 + i);
            __m128d bl = _mm_cvtps_pd(b), bh = _mm_cvtps_pd(_mm_movehl_ps(b, b));
            b0 = _mm_add_pd(b0, _mm_mul_pd(bl, bl));
            b1 = _mm_add_pd(b1, _mm_mul_pd(bh, bh));
            _mm_storeu_ps(mix + i, _mm_add_ps(a, b));
            top = _mm_max_ps(a, b);
            bottom = _mm_min_ps(a, b);
        } else {
            _mm_storeu_ps(mix + i, a);
        }
        vh = _mm_max_ps(vh, top);
        vl = _mm_min_ps(vl, bottom);
    }
    double t[2];
    _mm_storeu_pd(t, _mm_add_pd(a0, a1));
    s0 = t[0] + t[1];
    _mm_storeu_pd(t, _mm_add_pd(b0, b1));
    s1 = t[0] + t[1];
    float h4[4], l4[4];
    _mm_storeu_ps(h4, vh);
    _mm_storeu_ps(l4, vl);
    for (int k = 0; k < 4; k++) {
        hi = h4[k] > hi ? h4[k] : hi;
        lo = l4[k] < lo ? l4[k] : lo;
    }
#endif
    for (; i < end; i++) {
        float a = c0[i], b = c1 ? c1[i] : a;
        mix[i] = c1 ? a + b : a;
        s0 += (double)a * a;
        if (c1) s1 += (double)b * b;
        float t1 = a > b ? a : b, t2 = a < b ? a : b;
        hi = t1 > hi ? t1 : hi;
        lo = t2 < lo ? t2 : lo;
    }
    *e0 = s0;
    *e1 = s1;
    *high = hi;
    *low = lo;
}

#define ENVELOPE_ROWS(N)                                                                           \
    static void envelope_rows_##N(const section *s, const float *c0, const float *c1, size_t n,   \
                                  float *zi, size_t hop, float *mix, double *a_out, double *ch0,  \
                                  double *ch1, float *extremes) {                                 \
        float z0[N], z1[N];                                                                      \
        for (int k = 0; k < N; k++) { z0[k] = zi[2 * k]; z1[k] = zi[2 * k + 1]; }                 \
        int nan = 0;                                                                             \
        for (size_t start = 0, h = 0; start < n; start += hop, h++) {                            \
            size_t end = start + hop < n ? start + hop : n;                                      \
            double e0, e1;                                                                       \
            hop_stats(c0, c1, start, end, mix, &e0, &e1, &extremes[0], &extremes[1]);            \
            nan |= e0 != e0 || e1 != e1;                                                         \
            ch0[h] = e0;                                                                         \
            if (c1) ch1[h] = e1;                                                                 \
            double sa = 0.0;                                                                     \
            for (size_t i = start; i < end; i++) {                                               \
                float u = mix[i];                                                                \
                for (int k = 0; k < N; k++) STEP(s[k], u, z0[k], z1[k], u);                      \
                sa += (double)u * u;                                                             \
            }                                                                                    \
            a_out[h] = sa;                                                                       \
        }                                                                                        \
        for (int k = 0; k < N; k++) { zi[2 * k] = z0[k]; zi[2 * k + 1] = z1[k]; }                 \
        if (nan) extremes[2] = 1.0f;                                                             \
    }

ENVELOPE_ROWS(1) ENVELOPE_ROWS(2) ENVELOPE_ROWS(3) ENVELOPE_ROWS(4)

int envelope_f32(const float *x, size_t rows, size_t n, size_t stride, const float *sos, int sections,
                 float *zi, size_t hop, float *mix_out, double *a_out, double *ch_out, float *extremes) {
    if (rows < 1 || rows > 2 || sections < 1 || sections > MAX_SECTIONS || hop == 0) return -1;
    section s[MAX_SECTIONS];
    load(sos, sections, s);
    const float *c1 = rows == 2 ? x + stride : NULL;
    size_t hops = (n + hop - 1) / hop;
    double *ch1 = rows == 2 ? ch_out + hops : NULL;
    switch (sections) {
        case 1: envelope_rows_1(s, x, c1, n, zi, hop, mix_out, a_out, ch_out, ch1, extremes); break;
        case 2: envelope_rows_2(s, x, c1, n, zi, hop, mix_out, a_out, ch_out, ch1, extremes); break;
        case 3: envelope_rows_3(s, x, c1, n, zi, hop, mix_out, a_out, ch_out, ch1, extremes); break;
        default: envelope_rows_4(s, x, c1, n, zi, hop, mix_out, a_out, ch_out, ch1, extremes); break;
    }
    return 0;
}
