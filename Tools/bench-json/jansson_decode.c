/* Parses each benchmark input with libjansson and reads the fields the release policy reads
 * (Fixtures/bench/release/release.policy): the JSON half of a decision, for comparison with
 * the decode-only figure of `kbs policy bench`. Built and run by Tools/bench-json/run. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static volatile long sink;

/* Decodes one input as the policy's schema asks: evidence{type,measurement(hex),debug,tcb_svn},
 * identity.roles[{role,path}], key{path,required_tier}, tier. 1 when it fits, 0 when not. */
static int decode(const char *text, size_t length) {
    json_error_t error;
    json_t *root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &error);
    if (!root) return 0;
    int ok = 0;
    json_t *evidence = json_object_get(root, "evidence");
    json_t *identity = json_object_get(root, "identity");
    json_t *key = json_object_get(root, "key");
    json_t *tier = json_object_get(root, "tier");
    if (!json_is_object(evidence) || !json_is_object(identity) || !json_is_object(key) || !json_is_integer(tier)) goto done;
    json_t *type = json_object_get(evidence, "type");
    json_t *measurement = json_object_get(evidence, "measurement");
    json_t *debug = json_object_get(evidence, "debug");
    json_t *svn = json_object_get(evidence, "tcb_svn");
    if (!json_is_string(type) || !json_is_string(measurement) || !json_is_boolean(debug) || !json_is_integer(svn)) goto done;
    size_t hexLength = json_string_length(measurement);
    const char *hex = json_string_value(measurement);
    unsigned char bytes[64];
    if (hexLength % 2 != 0 || hexLength / 2 > sizeof bytes) goto done;
    for (size_t i = 0; i < hexLength / 2; i++) {
        int high = nibble(hex[2 * i]), low = nibble(hex[2 * i + 1]);
        if (high < 0 || low < 0) goto done;
        bytes[i] = (unsigned char)(high << 4 | low);
    }
    json_t *roles = json_object_get(identity, "roles");
    if (!json_is_array(roles)) goto done;
    size_t index;
    json_t *binding;
    long seen = bytes[0];
    json_array_foreach(roles, index, binding) {
        json_t *role = json_object_get(binding, "role");
        json_t *path = json_object_get(binding, "path");
        if (!json_is_string(role) || !json_is_string(path)) goto done;
        seen += (long)json_string_length(role) + (long)json_string_length(path);
    }
    json_t *keyPath = json_object_get(key, "path");
    json_t *required = json_object_get(key, "required_tier");
    if (!json_is_string(keyPath) || !json_is_integer(required)) goto done;
    sink = seen + (long)json_integer_value(svn) + (long)json_string_length(type) + json_is_true(debug);
    ok = 1;
done:
    json_decref(root);
    return ok;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUTS.jsonl [PASSES]\n", argv[0]);
        return 1;
    }
    int passes = argc > 2 ? atoi(argv[2]) : 3;
    FILE *file = fopen(argv[1], "rb");
    if (!file) {
        perror(argv[1]);
        return 1;
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (fread(data, 1, (size_t)size, file) != (size_t)size) return 1;
    fclose(file);
    size_t count = 0, capacity = 16384;
    const char **lines = malloc(capacity * sizeof *lines);
    size_t *lengths = malloc(capacity * sizeof *lengths);
    for (char *start = data, *end; start < data + size; start = end + 1) {
        end = memchr(start, '\n', (size_t)(data + size - start));
        if (!end) end = data + size;
        if (end == start) continue;
        if (count == capacity) return 1;
        lines[count] = start;
        lengths[count++] = (size_t)(end - start);
    }
    size_t fitted = 0;
    for (size_t i = 0; i < count; i++) fitted += (size_t)decode(lines[i], lengths[i]);
    for (size_t i = 0; i < 2000; i++) decode(lines[i % count], lengths[i % count]);
    uint64_t *samples = malloc(count * sizeof *samples);
    uint64_t *kept = malloc(count * sizeof *kept);
    if (passes < 1) passes = 1;
    if (passes > 15) passes = 15;
    double rates[16];
    uint64_t *all = malloc((size_t)passes * count * sizeof *all);
    for (int pass = 0; pass < passes; pass++) {
        uint64_t begin = now_ns();
        for (size_t i = 0; i < count; i++) {
            uint64_t t0 = now_ns();
            decode(lines[i], lengths[i]);
            samples[i] = now_ns() - t0;
        }
        rates[pass] = (double)count / ((double)(now_ns() - begin) / 1e9);
        memcpy(all + (size_t)pass * count, samples, count * sizeof *samples);
    }
    /* The median pass by throughput, as kbs policy bench reports it. */
    int order[16];
    for (int i = 0; i < passes; i++) order[i] = i;
    for (int i = 0; i < passes; i++)
        for (int j = i + 1; j < passes; j++)
            if (rates[order[j]] < rates[order[i]]) { int t = order[i]; order[i] = order[j]; order[j] = t; }
    int median = order[passes / 2];
    memcpy(kept, all + (size_t)median * count, count * sizeof *kept);
    qsort(kept, count, sizeof *kept, compare);
    printf("{\"inputs\":%zu,\"fitted\":%zu,\"decode_only_per_second\":%.0f,\"decode_only_p50_us\":%.2f,\"p99_us\":%.2f,"
           "\"jansson\":\"%s\"}\n",
           count, fitted, rates[median], (double)kept[count / 2] / 1000.0, (double)kept[count * 99 / 100] / 1000.0,
           JANSSON_VERSION);
    return 0;
}
