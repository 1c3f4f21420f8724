/*
 * Native helper threads for the pull pipeline (ADR 0008, third amendment):
 * SHA-256 on a thread, and syncfs() on a thread.
 *
 * A pull hashes every byte twice (the compressed blob, the uncompressed
 * diff_id) and its JavaScript thread is the bottleneck; this moves the
 * hashing to a plain pthread that runs no JavaScript. The JS thread submits
 * (context, pointer, length) jobs to a ring; one thread hashes them in
 * order; the JS thread reads the completed count to know which buffers it
 * may reuse, and waits (blocking, briefly) only for the last job of a stream
 * before taking its digest.
 *
 * The hashing is only for x86-64 CPUs with the SHA extensions (SHA-NI):
 * elsewhere pg_sha_start() says so and the caller hashes inline with Bun's
 * CryptoHasher (BoringSSL), which is as fast there.
 *
 * syncfs() (the store's durability barrier) blocks for 1-15 ms while the
 * disk catches up; pg_syncfs_start() runs it on a thread of its own so the
 * JavaScript thread keeps unpacking the other layers, and polls for the end.
 *
 * Built by build.ts as a shared object, embedded in the binary and loaded
 * from a memfd (ffi/native/index.ts).
 */
#define _GNU_SOURCE /* syncfs */
#include <cpuid.h>
#include <errno.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

typedef struct {
  uint32_t h[8];
  uint64_t total;     /* bytes hashed */
  uint8_t tail[64];   /* a partial block */
  uint32_t ntail;
} ctx_t;

static const uint32_t K[64] __attribute__((aligned(16))) = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/*
 * `blocks` 64-byte blocks with the SHA extensions. The state is kept as the
 * instructions want it: ABEF in one register, CDGH in the other. Each
 * 4-round group adds K to 4 message words and runs SHA256RNDS2 twice (2
 * rounds each); from group 4 on the words come from the previous 4 groups:
 * W[t..t+3] = msg2(msg1(W[t-16..], W[t-12..]) + W[t-7..t-4], W[t-4..t-1]).
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress(uint32_t st[8], const uint8_t *p, size_t blocks) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i cdab = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xb1);
  __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1b);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
  for (; blocks > 0; blocks--, p += 64) {
    const __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i w[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
      if (g < 4) {
        w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
      } else {
        __m128i x = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
        w[g & 3] = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
      }
      __m128i m = _mm_add_epi32(w[g & 3], _mm_load_si128((const __m128i *)&K[4 * g]));
      /* Two rounds: `cdgh` gets the new ABEF, and the old ABEF is the new CDGH; two more swap them back. */
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
      m = _mm_shuffle_epi32(m, 0x0e);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, m);
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
  _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dchg, feba, 8));
}

static void ctx_init(ctx_t *c) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, iv, sizeof iv);
  c->total = 0;
  c->ntail = 0;
}

static void update(ctx_t *c, const uint8_t *p, size_t n) {
  c->total += n;
  if (c->ntail > 0) {
    size_t k = 64 - c->ntail < n ? 64 - c->ntail : n;
    memcpy(c->tail + c->ntail, p, k);
    c->ntail += k;
    p += k;
    n -= k;
    if (c->ntail < 64) return;
    compress(c->h, c->tail, 1);
    c->ntail = 0;
  }
  if (n >= 64) {
    compress(c->h, p, n / 64);
    p += n & ~(size_t)63;
    n &= 63;
  }
  memcpy(c->tail, p, n);
  c->ntail = n;
}

static void finish(ctx_t *c, uint8_t out[32]) {
  uint64_t bits = c->total * 8;
  uint8_t pad[128] = {0x80};
  size_t padlen = (c->ntail < 56 ? 56 : 120) - c->ntail;
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
  uint64_t total = c->total;
  update(c, pad, padlen);
  update(c, len, 8);
  c->total = total;
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(c->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->h[i];
  }
}

/* The job ring: the JS thread appends at `submitted`, the hashing thread takes at `completed`. */
#define RING 4096
typedef struct {
  ctx_t *c;
  const uint8_t *p;
  size_t n;
} job_t;

static job_t ring[RING];
static uint64_t submitted, completed; /* guarded by mu; `completed` is also read without it (atomically) */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int idle, waiters;
static int started; /* 1 running, <0 failed (the error) */

static void *run(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (completed == submitted) {
      idle = 1;
      pthread_cond_wait(&work, &mu);
      idle = 0;
    }
    job_t j = ring[completed % RING];
    pthread_mutex_unlock(&mu);
    update(j.c, j.p, j.n);
    pthread_mutex_lock(&mu);
    __atomic_store_n(&completed, completed + 1, __ATOMIC_RELEASE);
    if (waiters) pthread_cond_broadcast(&done);
  }
  return NULL;
}

/* 0 when the thread runs; -ENOTSUP without the SHA extensions; -errno when it cannot start. */
API int pg_sha_start(void) {
  if (started == 1) return 0;
  if (started < 0) return started;
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)) || !__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19)) || !(c & (1u << 9)))
    return started = -ENOTSUP;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 64 * 1024);
  pthread_t t;
  int e = pthread_create(&t, &at, run, NULL);
  pthread_attr_destroy(&at);
  if (e != 0) return started = -e;
  pthread_detach(t);
  return started = 1, 0;
}

/* A new stream, or NULL (out of memory, or pg_sha_start() did not succeed: the CPU may lack SHA-NI). */
API void *pg_sha_new(void) {
  if (started != 1) return NULL;
  ctx_t *c = malloc(sizeof *c);
  if (c) ctx_init(c);
  return c;
}

/* Blocks until at least `seq` jobs are done. */
API void pg_sha_wait(double seq) {
  uint64_t want = (uint64_t)seq;
  pthread_mutex_lock(&mu);
  waiters++;
  while (completed < want) pthread_cond_wait(&done, &mu);
  waiters--;
  pthread_mutex_unlock(&mu);
}

/*
 * Queues `n` bytes at `p` for stream `c`; returns the job's sequence number
 * (done once pg_sha_completed() reaches it). The bytes must stay as they are
 * until then. Waits when the ring is full.
 */
API double pg_sha_submit(void *c, const void *p, double n) {
  pthread_mutex_lock(&mu);
  while (submitted - completed >= RING) {
    waiters++;
    pthread_cond_wait(&done, &mu);
    waiters--;
  }
  ring[submitted % RING] = (job_t){c, p, (size_t)n};
  uint64_t seq = ++submitted;
  if (idle) pthread_cond_signal(&work);
  pthread_mutex_unlock(&mu);
  return (double)seq;
}

/* How many jobs are done (every job up to this sequence number). */
API double pg_sha_completed(void) {
  return (double)__atomic_load_n(&completed, __ATOMIC_ACQUIRE);
}

/* Digest of stream `c` into out[32], and frees `c`. Every job of `c` must be done. */
API void pg_sha_finish(void *c, uint8_t *out) {
  finish(c, out);
  free(c);
}

/* Frees stream `c` without a digest. Every job of `c` must be done. */
API void pg_sha_free(void *c) {
  free(c);
}

/* Hashes on the calling thread (tests: the same code without the ring). */
API void pg_sha_update_here(void *c, const void *p, double n) {
  update(c, p, (size_t)n);
}

/* syncfs() on a thread of its own: start, poll until done, free. */
typedef struct {
  int fd;
  int err;  /* errno, or 0 */
  int done; /* set (release) once syncfs returned */
} sync_t;

static void *sync_run(void *arg) {
  sync_t *s = arg;
  s->err = syncfs(s->fd) == 0 ? 0 : errno;
  __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Starts syncfs(fd) (the fd must stay open until pg_syncfs_poll() says done); NULL when no thread could start. */
API void *pg_syncfs_start(int fd) {
  sync_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->fd = fd;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 64 * 1024);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  int e = pthread_create(&t, &at, sync_run, s);
  pthread_attr_destroy(&at);
  if (e != 0) {
    free(s);
    return NULL;
  }
  return s;
}

/* -1 while syncfs runs; then its errno (0: success), and `s` is freed. */
API int pg_syncfs_poll(void *p) {
  sync_t *s = p;
  if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) return -1;
  int err = s->err;
  free(s);
  return err;
}
