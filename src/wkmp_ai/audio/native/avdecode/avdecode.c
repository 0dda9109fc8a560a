/* The demux/decode loop over the system's FFmpeg (libavformat, libavcodec; 5.1 or later), for
 * wkmp_ai.audio.decode: packets read, decoded and written as blocks of float32 planar samples
 * (and the decoder's own samples, for the fingerprint) without a Python object per packet or
 * frame. The same decisions as decode.py's PyAV loop (docs/audio.md, "The decoder"):
 *
 * - a packet the decoder refuses is counted and skipped; after MAX_BAD of them, or when the
 *   demuxer itself fails, the rest of the file is given up;
 * - packets the demuxer flags as corrupt, and errors FFmpeg logs while this thread decodes,
 *   are counted as evidence of damage;
 * - frames whose rate or channel count differ from the stream's are converted to it (float
 *   planar, libswresample); a block ends early where the decoder's sample format changes, so
 *   that every block has one native format.
 *
 * Build: scripts/install.sh (cc -shared ... -lavformat -lavcodec -lavutil -lswresample).
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BAD 100
#define MAX_CHANNELS 64 /* more: PyAV decodes the file */
#define TEXT 256

/* What the caller reads after each call; counts are for the whole file so far. */
typedef struct {
    int64_t decoded;           /* sample frames received from the decoder (after conversion) */
    int sample_fmt;            /* AVSampleFormat of the samples just returned */
    int native_is_pcm;         /* the native samples are float planar: `pcm` holds them, `native` untouched */
    int finished;              /* nothing more will come */
    int gave_up;               /* decoding stopped early (too many bad packets, or the demuxer failed) */
    int bad_packets;
    int64_t first_bad_at;      /* in sample frames decoded before it */
    int corrupt_packets;
    int64_t first_corrupt_at;
    int logged_errors;
    int64_t first_logged_at;
    int converted;             /* frames unlike the stream's were converted */
    char first_bad[TEXT];
    char first_logged[TEXT];
    char gave_up_reason[TEXT];
    char layout[64];           /* channel layout of the samples just returned, as FFmpeg describes it */
} wk_status;

typedef struct {
    AVFormatContext *fmt;
    AVCodecContext *codec;
    AVPacket *packet;
    AVFrame *frame;            /* the frame being handed out: decoded, or converted into `converted` */
    AVFrame *converted;
    AVFrame *held;             /* frame or converted, while it has samples left; NULL otherwise */
    int held_offset;
    SwrContext *swr;
    int stream;
    int rate, channels;
    int flushed;               /* the decoder was sent the end of the stream */
    int capture;               /* FFmpeg's error messages are counted (not while opening) */
    wk_status st;
} wk_decoder;

static _Thread_local wk_decoder *current; /* the decoder this thread is running, for the log callback */

static void log_callback(void *avcl, int level, const char *fmt, va_list vl) {
    (void)avcl;
    wk_decoder *d = current;
    if (d == NULL || !d->capture || level > AV_LOG_ERROR) return;
    char text[TEXT];
    vsnprintf(text, sizeof text, fmt, vl);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = '\0';
    if (n == 0) return;
    if (d->st.logged_errors++ == 0) {
        d->st.first_logged_at = d->st.decoded;
        snprintf(d->st.first_logged, sizeof d->st.first_logged, "%s", text);
    }
}

int wk_init(void) {
    av_log_set_callback(log_callback); /* the system's libavutil only: PyAV's FFmpeg logs as before */
    return 0;
}

static void note_bad(wk_decoder *d, int err) {
    if (d->st.bad_packets++ == 0) {
        d->st.first_bad_at = d->st.decoded;
        av_strerror(err, d->st.first_bad, sizeof d->st.first_bad);
    }
    if (d->st.bad_packets >= MAX_BAD) d->st.gave_up = 1;
}

void wk_close(wk_decoder *d) {
    if (d == NULL) return;
    swr_free(&d->swr);
    av_frame_free(&d->frame);
    av_frame_free(&d->converted);
    av_packet_free(&d->packet);
    avcodec_free_context(&d->codec);
    avformat_close_input(&d->fmt);
    free(d);
}

/* Open `path` and its audio stream number `stream`, expecting `rate` Hz and `channels` channels
 * (what the PyAV probe found). `quick`: the small probe decode.py opened the file with. NULL when
 * the system's FFmpeg cannot read it as PyAV did (the caller then decodes with PyAV). */
wk_decoder *wk_open(const char *path, int stream, int rate, int channels, int quick) {
    wk_decoder *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->stream = stream;
    d->rate = rate;
    d->channels = channels;
    current = d; /* errors while opening were counted by the PyAV probe already: capture stays off */
    AVDictionary *options = NULL;
    av_dict_set(&options, "max_size", "65536", 0);
    if (quick) av_dict_set(&options, "probesize", "65536", 0);
    int ok = avformat_open_input(&d->fmt, path, NULL, &options) >= 0;
    av_dict_free(&options);
    ok = ok && avformat_find_stream_info(d->fmt, NULL) >= 0;
    ok = ok && stream >= 0 && (unsigned)stream < d->fmt->nb_streams && channels > 0 && channels <= MAX_CHANNELS;
    const AVCodec *codec = NULL;
    if (ok) {
        AVCodecParameters *par = d->fmt->streams[stream]->codecpar;
        ok = par->codec_type == AVMEDIA_TYPE_AUDIO && (codec = avcodec_find_decoder(par->codec_id)) != NULL;
        ok = ok && (d->codec = avcodec_alloc_context3(codec)) != NULL;
        ok = ok && avcodec_parameters_to_context(d->codec, par) >= 0;
    }
    if (ok) {
        /* One thread per decoder (the import runs one file per core), and planar output from
         * decoders that offer it: the analysis works on one channel at a time. */
        d->codec->thread_count = 1;
        if (d->codec->sample_fmt == AV_SAMPLE_FMT_S16 || d->codec->sample_fmt == AV_SAMPLE_FMT_S32)
            d->codec->request_sample_fmt = av_get_planar_sample_fmt(d->codec->sample_fmt);
        for (unsigned i = 0; i < d->fmt->nb_streams; i++)
            if ((int)i != stream) d->fmt->streams[i]->discard = AVDISCARD_ALL;
        ok = avcodec_open2(d->codec, codec, NULL) >= 0;
    }
    ok = ok && (d->packet = av_packet_alloc()) != NULL && (d->frame = av_frame_alloc()) != NULL &&
         (d->converted = av_frame_alloc()) != NULL;
    current = NULL;
    if (!ok) {
        wk_close(d);
        return NULL;
    }
    d->capture = 1;
    d->st.sample_fmt = -1;
    return d;
}

/* d->frame converted to float planar at the stream's rate and channel count, into d->converted. */
static int convert(wk_decoder *d, const AVChannelLayout *layout) {
    av_frame_unref(d->converted);
    d->converted->format = AV_SAMPLE_FMT_FLTP;
    d->converted->sample_rate = d->rate;
    int err = av_channel_layout_copy(&d->converted->ch_layout, layout);
    return err < 0 ? err : swr_convert_frame(d->swr, d->converted, d->frame);
}

/* The next frame into d->held, converted to the stream's shape when it differs; 0 at the end. */
static int next_frame(wk_decoder *d) {
    for (;;) {
        int err = avcodec_receive_frame(d->codec, d->frame);
        if (err >= 0) {
            if (d->frame->nb_samples <= 0) continue;
            AVFrame *out = d->frame;
            if (d->frame->sample_rate != d->rate || d->frame->ch_layout.nb_channels != d->channels || d->swr) {
                /* once converting, always: the rest of the file keeps one shape. A resampler set up
                 * for other input (the frames changed again) is set up afresh, once. */
                AVChannelLayout layout;
                av_channel_layout_default(&layout, d->channels);
                int cerr = d->swr ? convert(d, &layout) : -1;
                if (cerr < 0) {
                    swr_free(&d->swr);
                    cerr = swr_alloc_set_opts2(&d->swr, &layout, AV_SAMPLE_FMT_FLTP, d->rate, &d->frame->ch_layout,
                                               d->frame->format, d->frame->sample_rate, 0, NULL);
                    if (cerr >= 0) cerr = swr_init(d->swr);
                    if (cerr >= 0) cerr = convert(d, &layout);
                }
                av_channel_layout_uninit(&layout);
                av_frame_unref(d->frame);
                if (cerr < 0) {
                    note_bad(d, cerr);
                    if (d->st.gave_up) return 0;
                    continue;
                }
                d->st.converted = 1;
                if (d->converted->nb_samples <= 0) continue;
                out = d->converted;
            }
            d->held = out;
            d->held_offset = 0;
            d->st.decoded += out->nb_samples;
            return 1;
        }
        if (err == AVERROR_EOF) return 0;
        if (err != AVERROR(EAGAIN)) {
            note_bad(d, err);
            if (d->st.gave_up) return 0;
        }
        if (d->flushed) return 0;
        /* the decoder wants a packet */
        for (;;) {
            err = av_read_frame(d->fmt, d->packet);
            if (err < 0) {
                if (err != AVERROR_EOF) {
                    char text[TEXT - 40];
                    av_strerror(err, text, sizeof text);
                    snprintf(d->st.gave_up_reason, sizeof d->st.gave_up_reason, "%s", text);
                    d->st.gave_up = 1;
                    return 0;
                }
                d->flushed = 1;
                avcodec_send_packet(d->codec, NULL);
                break;
            }
            if (d->packet->stream_index != d->stream) {
                av_packet_unref(d->packet);
                continue;
            }
            if (d->packet->flags & AV_PKT_FLAG_CORRUPT) {
                if (d->st.corrupt_packets++ == 0) d->st.first_corrupt_at = d->st.decoded;
            }
            err = avcodec_send_packet(d->codec, d->packet);
            av_packet_unref(d->packet);
            if (err < 0 && err != AVERROR(EAGAIN)) {
                note_bad(d, err);
                if (d->st.gave_up) return 0;
                continue;
            }
            break;
        }
    }
}

static int bytes_of(int fmt) { return av_get_bytes_per_sample((enum AVSampleFormat)fmt); }

/* One channel's samples in[0], in[step], ... as float32, scaled as decode.py scales them; the
 * contiguous case (planar formats) gets a loop of its own, which the compiler vectorises. */
#define CONVERT(T, VALUE)                                                                             \
    {                                                                                                 \
        const T *in = (const T *)base + first;                                                        \
        if (step == 1)                                                                                \
            for (int i = 0; i < n; i++) out[i] = VALUE(in[i]);                                        \
        else                                                                                          \
            for (int i = 0; i < n; i++) out[i] = VALUE(in[(size_t)i * step]);                         \
    }
#define AS_FLOAT(x) (x)
#define FROM_DBL(x) ((float)(x))
#define FROM_S16(x) ((float)(x) * (1.0f / 32768.0f))
#define FROM_S32(x) ((float)(x) * (1.0f / 2147483648.0f))
#define FROM_S64(x) ((float)(x) * (float)(1.0 / 9223372036854775808.0))
#define FROM_U8(x) ((float)((int16_t)(x) - 128) * (1.0f / 128.0f))

/* Samples offset .. offset + n of frame `f` (planar or packed), one float32 row per channel. */
static void to_float(const AVFrame *f, int offset, int n, float *const *rows) {
    int fmt = f->format, channels = f->ch_layout.nb_channels;
    int planar = av_sample_fmt_is_planar(fmt);
    int step = planar ? 1 : channels;
    for (int c = 0; c < channels; c++) {
        float *out = rows[c];
        size_t first = planar ? (size_t)offset : (size_t)offset * channels + c;
        const uint8_t *base = f->extended_data[planar ? c : 0];
        switch (av_get_packed_sample_fmt(fmt)) {
        case AV_SAMPLE_FMT_FLT: CONVERT(float, AS_FLOAT) break;
        case AV_SAMPLE_FMT_DBL: CONVERT(double, FROM_DBL) break;
        case AV_SAMPLE_FMT_S16: CONVERT(int16_t, FROM_S16) break;
        case AV_SAMPLE_FMT_S32: CONVERT(int32_t, FROM_S32) break;
        case AV_SAMPLE_FMT_S64: CONVERT(int64_t, FROM_S64) break;
        case AV_SAMPLE_FMT_U8: CONVERT(uint8_t, FROM_U8) break;
        default: memset(out, 0, (size_t)n * sizeof *out);
        }
    }
}

/* Up to `capacity` sample frames from where the last call stopped:
 * - `pcm`: float32 planar, row c at pcm + c * capacity;
 * - `native`: the decoder's own samples (unless they are float planar: then st.native_is_pcm),
 *   planar rows of `capacity` samples, or packed (capacity * channels samples), as FFmpeg has them.
 * Returns the number written. Fewer than `capacity` when the file ends (st.finished) or where
 * the native sample format changes (the next call goes on in the new format). */
int wk_read(wk_decoder *d, float *pcm, uint8_t *native, int capacity, wk_status *status) {
    current = d;
    int written = 0;
    int fmt = -1;
    while (written < capacity) {
        if (d->held == NULL && !next_frame(d)) {
            d->st.finished = 1;
            break;
        }
        AVFrame *f = d->held;
        if (fmt < 0) {
            fmt = f->format;
            d->st.sample_fmt = fmt;
            d->st.native_is_pcm = fmt == AV_SAMPLE_FMT_FLTP;
            av_channel_layout_describe(&f->ch_layout, d->st.layout, sizeof d->st.layout);
        } else if (f->format != fmt) {
            break; /* a block has one native format */
        }
        int n = f->nb_samples - d->held_offset;
        if (n > capacity - written) n = capacity - written;
        float *rows[MAX_CHANNELS];
        int channels = f->ch_layout.nb_channels;
        if (channels != d->channels) { /* cannot happen after conversion; never write past the rows */
            d->held = NULL;
            av_frame_unref(f);
            continue;
        }
        for (int c = 0; c < channels; c++) rows[c] = pcm + (size_t)c * capacity + written;
        to_float(f, d->held_offset, n, rows);
        if (!d->st.native_is_pcm) {
            int size = bytes_of(fmt);
            if (av_sample_fmt_is_planar(fmt)) {
                for (int c = 0; c < channels; c++)
                    memcpy(native + ((size_t)c * capacity + written) * size,
                           f->extended_data[c] + (size_t)d->held_offset * size, (size_t)n * size);
            } else {
                memcpy(native + (size_t)written * channels * size,
                       f->extended_data[0] + (size_t)d->held_offset * channels * size, (size_t)n * channels * size);
            }
        }
        written += n;
        d->held_offset += n;
        if (d->held_offset >= f->nb_samples) {
            d->held = NULL;
            av_frame_unref(f);
        }
    }
    current = NULL;
    *status = d->st;
    return written;
}

int wk_status_size(void) { return (int)sizeof(wk_status); }
