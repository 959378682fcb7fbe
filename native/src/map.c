// zonectl_map.node: the bundle's scripts and their V8 code caches, mapped instead of read
// (bin/zonectl.cjs). Reading them cost ~1 ms a script before any command could run: a fresh
// buffer the size of the file, faulted in page by page, then copied into; the source copied
// again into a V8 string. A read-only private mapping of the page cache is faulted in
// 64 KB at a time and copied nowhere: the cache is handed to V8 as an external Buffer, the
// source as an external one-byte string (the bundle is ASCII).
//
// A mapping follows its file: the bundle is only ever replaced (scripts/bundle.mjs writes a new
// file and renames it), never rewritten in place, so a running zonectl keeps the one it mapped.
// An addon of its own, in plain C against node_api.h: it is loaded before any command,
// --version included, so it is kept to two functions, with no C++ runtime to initialise. Built
// with -z now: on a Node without external strings the load fails, and bin/zonectl.cjs reads the
// files.

#define NAPI_EXPERIMENTAL
#include <node_api.h>

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// A mapping of the whole file at `path`, or NULL (errno set). An empty file has no mapping.
static void *map_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  void *m = NULL;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    *len = (size_t)st.st_size;
    m = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) m = NULL;
  }
  close(fd);
  return m;
}

static void unmap(node_api_basic_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)hint);
}

// The path argument; false after throwing.
static int path_arg(napi_env env, napi_callback_info info, char *path) {
  size_t argc = 1;
  napi_value arg;
  size_t n;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, arg, path, PATH_MAX, &n) != napi_ok || n >= PATH_MAX - 1) {
    napi_throw_type_error(env, NULL, "a path");
    return 0;
  }
  return 1;
}

typedef napi_status (*wrap_fn)(napi_env, void *, size_t, napi_value *);

// The file at the argument's path, mapped and wrapped by `wrap`; undefined if it cannot be
// mapped (missing, empty, a filesystem without mmap): the caller reads it instead.
static napi_value mapped(napi_env env, napi_callback_info info, wrap_fn wrap) {
  char path[PATH_MAX];
  if (!path_arg(env, info, path)) return NULL;
  size_t len = 0;
  void *m = map_file(path, &len);
  napi_value result;
  if (m == NULL) {
    napi_get_undefined(env, &result);
    return result;
  }
  if (wrap(env, m, len, &result) != napi_ok) {
    munmap(m, len);
    napi_throw_error(env, NULL, "cannot wrap a mapping");
    return NULL;
  }
  return result;
}

static napi_status wrap_buffer(napi_env env, void *m, size_t len, napi_value *result) {
  return napi_create_external_buffer(env, len, m, unmap, (void *)len, result);
}

static napi_status wrap_latin1(napi_env env, void *m, size_t len, napi_value *result) {
  bool copied; // a short string is copied, and the mapping already let go (unmap called)
  return node_api_create_external_string_latin1(env, m, len, unmap, (void *)len, result, &copied);
}

static napi_value buffer(napi_env env, napi_callback_info info) { return mapped(env, info, wrap_buffer); }

static napi_value latin1(napi_env env, napi_callback_info info) { return mapped(env, info, wrap_latin1); }

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "buffer", NAPI_AUTO_LENGTH, buffer, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "buffer", fn) != napi_ok ||
      napi_create_function(env, "latin1", NAPI_AUTO_LENGTH, latin1, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "latin1", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
