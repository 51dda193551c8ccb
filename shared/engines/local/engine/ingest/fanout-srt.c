/*
 * fanout-srt: the local engine's SRT ingest (ADR 0020). It replaces srt-live-transmit, which can
 * only take the passphrase in its command line (readable by every local user with `ps`). Built
 * against Debian's libsrt (libsrt1.5-gnutls, headers from libsrt-gnutls-dev) by setup.sh, or by
 * the engine when the binary is missing or older than this file (see binary.ts).
 *
 *   fanout-srt listen --bind ADDR --port N [--latency MS] [--pbkeylen 16|24|32] [--stats-ms MS]
 *                     [--passphrase-fd 0] [--events-fd 3]
 *       SRT listener (AES): the passphrase is the first line read from --passphrase-fd (stdin by
 *       default), never an argument or an environment variable. The MPEG-TS of the connected
 *       caller goes to stdout, byte for byte; what happens goes to --events-fd as JSON lines:
 *         {"event":"listening","port":9998}
 *         {"event":"connected","address":"127.0.0.1:34199"}
 *         {"event":"rejected","reason":"passphrase","code":1010,"address":"127.0.0.1:34200"}
 *         {"event":"busy","address":"…"}     a second caller while one is connected and sending:
 *                                              refused (one silent for 1.5 s is replaced instead)
 *         {"event":"stats","rttMs":0.4,"mbitRate":6.1,"packets":575,"packetsLost":0,
 *          "packetsRetransmitted":0,"packetsDropped":0,"bytes":756000}   (per interval)
 *         {"event":"disconnected"}
 *         {"event":"heartbeat"}                every --stats-ms while no caller is connected
 *       So a line comes at least every --stats-ms: silence means a hang (the owner restarts it).
 *       One caller at a time; after it leaves, the next is accepted (an encoder that drops and
 *       comes back is picked up). Exits 0 on SIGINT/SIGTERM, 1 on an error (said on stderr).
 *
 *   fanout-srt call --host H --port N [--latency MS] [--pbkeylen 16|24|32] [--passphrase-fd 0]
 *                   [-- PROGRAM ARGS...]
 *       SRT caller (the test source): once connected, runs PROGRAM (FFmpeg writing MPEG-TS to its
 *       stdout) in its own process group and sends what it writes, 7 TS packets a message, until
 *       EOF; without PROGRAM it sends its own stdin (then the passphrase must come on another
 *       fd). PROGRAM never sees the passphrase. Exits 1 if the listener refuses the call (wrong
 *       passphrase: "Incorrect passphrase" on stderr) or the connection breaks, else PROGRAM's
 *       exit status; a killed caller takes PROGRAM with it (its next write fails with EPIPE).
 *
 * Speed: the listener reads every packet libsrt has ready per wake-up and writes them to stdout
 * in one write once 8 KiB are buffered or the oldest buffered byte is FLUSH_MS old (about 90
 * writes a second at 6 Mbit/s, half of srt-live-transmit's 4 KiB stdio blocks); no allocation
 * after start-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <srt/srt.h>

#define TS_PACKET 188
#define SRT_PAYLOAD (7 * TS_PACKET)
#define OUT_CAP (64 * 1024)
#define FLUSH_BYTES (8 * 1024)
#define FLUSH_MS 20
#define LOG_WARNING_LEVEL 4
/* A connected caller that has sent nothing for this long is taken for gone when another calls. */
#define STALE_MS 1500

static volatile sig_atomic_t stopping = 0;
static int events_fd = 3;
static pthread_mutex_t peer_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_peer[80] = "";
static SRTSOCKET current = SRT_INVALID_SOCK;
/* When the current caller last sent data (ms, monotonic); under peer_lock. */
static int64_t last_rx = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One event line, in one write (a pipe keeps writes of up to PIPE_BUF bytes whole). */
static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(events_fd, line, (size_t)n);
  (void)w;
}

static void die(const char *what) {
  fprintf(stderr, "fanout-srt: %s: %s\n", what, srt_getlasterror_str());
  exit(1);
}

static void format_addr(const struct sockaddr *sa, char *out, size_t cap) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/*
 * libsrt's log, at warning level and up: to stderr (the supervisor keeps its last lines), and a
 * handshake it rejected becomes a "rejected" event (libsrt has no other way to tell a listener).
 * libsrt never logs the passphrase.
 */
static void on_log(void *opaque, int level, const char *file, int line, const char *area, const char *message) {
  (void)opaque; (void)level; (void)file; (void)line; (void)area;
  fputs(message, stderr);
  const char *r = strstr(message, "rsp(REJECT): ");
  if (!r) return;
  int code = atoi(r + strlen("rsp(REJECT): "));
  char peer[80];
  pthread_mutex_lock(&peer_lock);
  memcpy(peer, last_peer, sizeof peer);
  pthread_mutex_unlock(&peer_lock);
  const char *reason = (code == SRT_REJC_PREDEFINED + SRT_REJ_BADSECRET || code == SRT_REJC_PREDEFINED + SRT_REJ_UNSECURE) ? "passphrase" : "other";
  if (peer[0]) emit("{\"event\":\"rejected\",\"reason\":\"%s\",\"code\":%d,\"address\":\"%s\"}", reason, code, peer);
  else emit("{\"event\":\"rejected\",\"reason\":\"%s\",\"code\":%d,\"address\":null}", reason, code);
}

/*
 * Before libsrt checks the passphrase: remembers who is calling, and refuses a second caller while
 * the connected one is sending. One that has sent nothing for STALE_MS is taken for gone (an
 * encoder calling back before SRT's peer-idle timeout noticed it had left): the new caller
 * replaces it once its handshake (passphrase included) succeeds.
 */
static int on_listen(void *opaque, SRTSOCKET ns, int hsversion, const struct sockaddr *peer, const char *streamid) {
  (void)opaque; (void)ns; (void)hsversion; (void)streamid;
  char addr[80];
  format_addr(peer, addr, sizeof addr);
  pthread_mutex_lock(&peer_lock);
  memcpy(last_peer, addr, sizeof addr);
  int busy = current != SRT_INVALID_SOCK && now_ms() - last_rx < STALE_MS;
  pthread_mutex_unlock(&peer_lock);
  if (busy) {
    emit("{\"event\":\"busy\",\"address\":\"%s\"}", addr);
    return -1;
  }
  return 0;
}

/* The first line of fd `fd`, read a byte at a time so that nothing after it is consumed. */
static void read_passphrase(int fd, char *out, size_t cap) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || c == '\n') break;
    if (n + 1 >= cap) {
      fprintf(stderr, "fanout-srt: the passphrase is too long\n");
      exit(2);
    }
    out[n++] = c;
  }
  out[n] = '\0';
  if (n > 0 && out[n - 1] == '\r') out[--n] = '\0';
  if (n < 10 || n > 79) {
    fprintf(stderr, "fanout-srt: the passphrase must be 10 to 79 characters (got %zu on fd %d)\n", n, fd);
    exit(2);
  }
}

static void set_int(SRTSOCKET s, SRT_SOCKOPT opt, int v, const char *what) {
  if (srt_setsockflag(s, opt, &v, sizeof v) == SRT_ERROR) die(what);
}

static void configure(SRTSOCKET s, const char *passphrase, int pbkeylen, int latency) {
  if (srt_setsockflag(s, SRTO_PASSPHRASE, passphrase, (int)strlen(passphrase)) == SRT_ERROR) die("passphrase");
  set_int(s, SRTO_PBKEYLEN, pbkeylen, "pbkeylen");
  set_int(s, SRTO_LATENCY, latency, "latency");
  SRT_TRANSTYPE live = SRTT_LIVE;
  if (srt_setsockflag(s, SRTO_TRANSTYPE, &live, sizeof live) == SRT_ERROR) die("transtype");
}

static int resolve(const char *host, int port, int passive, struct sockaddr_storage *out, int *len) {
  struct addrinfo hints = {0}, *res = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  int rc = getaddrinfo(host && host[0] ? host : NULL, service, &hints, &res);
  if (rc != 0 || !res) {
    fprintf(stderr, "fanout-srt: cannot resolve %s: %s\n", host ? host : "(any)", gai_strerror(rc));
    return -1;
  }
  memcpy(out, res->ai_addr, res->ai_addrlen);
  *len = (int)res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

/* Writes all of buf to stdout; false once stdout is gone (the engine closed it). */
static int write_all(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = write(1, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 1;
}

static void emit_stats(SRTSOCKET s) {
  SRT_TRACEBSTATS p;
  if (srt_bstats(s, &p, 1) == SRT_ERROR) return;
  emit("{\"event\":\"stats\",\"rttMs\":%.3f,\"mbitRate\":%.3f,\"packets\":%lld,\"packetsLost\":%d,\"packetsRetransmitted\":%d,\"packetsDropped\":%d,\"bytes\":%llu}",
       p.msRTT, p.mbpsRecvRate, (long long)p.pktRecv, p.pktRcvLoss, p.pktRcvRetrans, p.pktRcvDrop, (unsigned long long)p.byteRecv);
}

static void drop_connection(int eid) {
  pthread_mutex_lock(&peer_lock);
  SRTSOCKET s = current;
  current = SRT_INVALID_SOCK;
  pthread_mutex_unlock(&peer_lock);
  if (s == SRT_INVALID_SOCK) return;
  emit_stats(s);
  srt_epoll_remove_usock(eid, s);
  srt_close(s);
  emit("{\"event\":\"disconnected\"}");
}

static int run_listener(const char *bind_host, int port, const char *pass, int pbkeylen, int latency, int stats_ms) {
  struct sockaddr_storage sa;
  int salen;
  if (resolve(bind_host, port, 1, &sa, &salen) != 0) return 1;
  SRTSOCKET lsn = srt_create_socket();
  if (lsn == SRT_INVALID_SOCK) die("socket");
  configure(lsn, pass, pbkeylen, latency);
  int no = 0;
  if (srt_setsockflag(lsn, SRTO_RCVSYN, &no, sizeof no) == SRT_ERROR) die("rcvsyn");
  if (srt_bind(lsn, (struct sockaddr *)&sa, salen) == SRT_ERROR) die("bind");
  if (srt_listen_callback(lsn, on_listen, NULL) == SRT_ERROR) die("listen callback");
  if (srt_listen(lsn, 1) == SRT_ERROR) die("listen");
  int eid = srt_epoll_create();
  if (eid < 0) die("epoll");
  int in_err = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  srt_epoll_add_usock(eid, lsn, &in_err);
  emit("{\"event\":\"listening\",\"port\":%d}", port);

  static char out[OUT_CAP];
  size_t used = 0;
  int64_t oldest = 0, next_stats = now_ms() + stats_ms;
  SRT_EPOLL_EVENT ev[4];
  while (!stopping) {
    int64_t t = now_ms();
    int64_t wait = 250;
    if (used > 0 && oldest + FLUSH_MS - t < wait) wait = oldest + FLUSH_MS - t;
    if (next_stats - t < wait) wait = next_stats - t;
    if (wait < 0) wait = 0;
    int n = srt_epoll_uwait(eid, ev, 4, wait);
    for (int i = 0; i < n; i++) {
      if (ev[i].fd == lsn) {
        struct sockaddr_storage peer;
        int plen = sizeof peer;
        SRTSOCKET s = srt_accept(lsn, (struct sockaddr *)&peer, &plen);
        if (s == SRT_INVALID_SOCK) continue;
        if (current != SRT_INVALID_SOCK) {
          pthread_mutex_lock(&peer_lock);
          int stale = now_ms() - last_rx >= STALE_MS;
          pthread_mutex_unlock(&peer_lock);
          if (!stale) {
            srt_close(s);
            continue;
          }
          if (used > 0 && !write_all(out, used)) return 1;
          used = 0;
          drop_connection(eid);
        }
        char addr[80];
        format_addr((struct sockaddr *)&peer, addr, sizeof addr);
        pthread_mutex_lock(&peer_lock);
        current = s;
        last_rx = now_ms();
        pthread_mutex_unlock(&peer_lock);
        srt_epoll_add_usock(eid, s, &in_err);
        emit("{\"event\":\"connected\",\"address\":\"%s\"}", addr);
        next_stats = now_ms() + stats_ms;
        continue;
      }
      if (ev[i].fd != current) continue;
      // Every packet that is ready, into the buffer.
      int got = 0;
      for (;;) {
        if (OUT_CAP - used < 1500) {
          if (!write_all(out, used)) return 1;
          used = 0;
        }
        int r = srt_recvmsg(current, out + used, (int)(OUT_CAP - used));
        if (r > 0) {
          if (used == 0) oldest = now_ms();
          used += (size_t)r;
          got = 1;
          continue;
        }
        if (r == SRT_ERROR && srt_getlasterror(NULL) == SRT_EASYNCRCV) {
          if (got) {
            pthread_mutex_lock(&peer_lock);
            last_rx = now_ms();
            pthread_mutex_unlock(&peer_lock);
          }
          break;
        }
        // Broken or closed by the peer: what was received still goes out.
        if (used > 0 && !write_all(out, used)) return 1;
        used = 0;
        drop_connection(eid);
        break;
      }
    }
    t = now_ms();
    if (used >= FLUSH_BYTES || (used > 0 && t - oldest >= FLUSH_MS)) {
      if (!write_all(out, used)) return 1;
      used = 0;
    }
    if (current != SRT_INVALID_SOCK) {
      SRT_SOCKSTATUS st = srt_getsockstate(current);
      if (st == SRTS_BROKEN || st == SRTS_CLOSED || st == SRTS_NONEXIST) drop_connection(eid);
      else if (t >= next_stats) {
        emit_stats(current);
        next_stats = t + stats_ms;
      }
    } else if (t >= next_stats) {
      // Alive and listening: the owner restarts an ingest that goes silent (a hang).
      emit("{\"event\":\"heartbeat\"}");
      next_stats = t + stats_ms;
    }
  }
  if (used > 0) write_all(out, used);
  drop_connection(eid);
  srt_close(lsn);
  return 0;
}

/* Runs prog with its stdout into a pipe; returns the pipe's reading end (or -1), sets *pid. */
static int spawn_program(char **prog, pid_t *pid) {
  int p[2];
  if (pipe(p) != 0) return -1;
  *pid = fork();
  if (*pid < 0) return -1;
  if (*pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
    execvp(prog[0], prog);
    fprintf(stderr, "fanout-srt: cannot run %s: %s\n", prog[0], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  return p[0];
}

static int run_caller(const char *host, int port, const char *pass, int pbkeylen, int latency, char **prog) {
  struct sockaddr_storage sa;
  int salen;
  if (resolve(host, port, 0, &sa, &salen) != 0) return 1;
  SRTSOCKET s = srt_create_socket();
  if (s == SRT_INVALID_SOCK) die("socket");
  configure(s, pass, pbkeylen, latency);
  // Bounded, never forever: a refusal that does not arrive fails the connect after 3 s, and a send
  // that cannot leave (a listener that stopped reading) breaks the call after 3 s.
  set_int(s, SRTO_CONNTIMEO, 3000, "conntimeo");
  set_int(s, SRTO_SNDTIMEO, 3000, "sndtimeo");
  if (srt_connect(s, (struct sockaddr *)&sa, salen) == SRT_ERROR) {
    int reason = srt_getrejectreason(s);
    fprintf(stderr, "fanout-srt: connection to %s:%d failed: %s (%s)\n", host, port, srt_getlasterror_str(), srt_rejectreason_str(reason));
    return 1;
  }
  fprintf(stderr, "fanout-srt: connected to %s:%d\n", host, port);
  pid_t child = -1;
  int in = 0;
  if (prog) {
    in = spawn_program(prog, &child);
    if (in < 0) die("spawn");
  }
  static char buf[OUT_CAP];
  size_t used = 0;
  int broken = 0;
  while (!stopping && !broken) {
    ssize_t r = read(in, buf + used, sizeof buf - used);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    used += (size_t)r;
    size_t off = 0;
    while (used - off >= SRT_PAYLOAD) {
      if (srt_sendmsg2(s, buf + off, SRT_PAYLOAD, NULL) == SRT_ERROR) {
        fprintf(stderr, "fanout-srt: send: %s\n", srt_getlasterror_str());
        broken = 1;
        break;
      }
      off += SRT_PAYLOAD;
    }
    memmove(buf, buf + off, used - off);
    used -= off;
  }
  if (used > 0 && !broken) srt_sendmsg2(s, buf, (int)used, NULL);
  srt_close(s);
  if (child <= 0) return broken ? 1 : 0;
  close(in);
  if (broken || stopping) kill(child, SIGKILL);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  if (broken) return 1;
  if (stopping) return 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void usage(void) {
  fprintf(stderr, "usage: fanout-srt listen --bind ADDR --port N [--latency MS] [--pbkeylen 16|24|32] [--stats-ms MS] [--passphrase-fd 0] [--events-fd 3]\n"
                  "       fanout-srt call --host H --port N [--latency MS] [--pbkeylen 16|24|32] [--passphrase-fd 0] [-- PROGRAM ARGS...]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  int listen_mode = strcmp(argv[1], "listen") == 0;
  if (!listen_mode && strcmp(argv[1], "call") != 0) usage();
  const char *host = listen_mode ? "0.0.0.0" : NULL;
  int port = 0, latency = 120, pbkeylen = 16, stats_ms = 1000, pass_fd = 0;
  char **prog = NULL;
  for (int i = 2; i < argc; i += 2) {
    if (!strcmp(argv[i], "--")) {
      if (listen_mode || i + 1 >= argc) usage();
      prog = argv + i + 1;
      break;
    }
    if (i + 1 >= argc) usage();
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--bind") || !strcmp(k, "--host")) host = v;
    else if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--latency")) latency = atoi(v);
    else if (!strcmp(k, "--pbkeylen")) pbkeylen = atoi(v);
    else if (!strcmp(k, "--stats-ms")) stats_ms = atoi(v);
    else if (!strcmp(k, "--passphrase-fd")) pass_fd = atoi(v);
    else if (!strcmp(k, "--events-fd")) events_fd = atoi(v);
    else usage();
  }
  if (port <= 0 || port > 65535 || !host || stats_ms <= 0) usage();
  if (pbkeylen != 16 && pbkeylen != 24 && pbkeylen != 32) usage();

  char pass[96];
  read_passphrase(pass_fd, pass, sizeof pass);
  if (pass_fd > 2) close(pass_fd);
  if (pass_fd == 0 && prog) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) { dup2(null, 0); close(null); }
  }

  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  srt_startup();
  srt_setloglevel(LOG_WARNING_LEVEL);
  srt_setloghandler(NULL, on_log);
  int rc = listen_mode ? run_listener(host, port, pass, pbkeylen, latency, stats_ms) : run_caller(host, port, pass, pbkeylen, latency, prog);
  memset(pass, 0, sizeof pass);
  srt_cleanup();
  return rc;
}
