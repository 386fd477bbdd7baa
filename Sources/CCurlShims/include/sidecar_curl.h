#ifndef SIDECAR_CURL_H
#define SIDECAR_CURL_H

#include <curl/curl.h>

/* libcurl's option setters are variadic, which Swift cannot call: one typed
 * wrapper per kind of argument. */

typedef size_t (*sidecar_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*sidecar_curl_socket_callback)(CURL *easy, curl_socket_t socket, int what, void *context, void *socket_context);
typedef int (*sidecar_curl_timer_callback)(CURLM *multi, long timeout_ms, void *context);

CURLcode sidecar_curl_easy_set_long(CURL *easy, CURLoption option, long value);
CURLcode sidecar_curl_easy_set_off(CURL *easy, CURLoption option, curl_off_t value);
CURLcode sidecar_curl_easy_set_string(CURL *easy, CURLoption option, const char *value);
CURLcode sidecar_curl_easy_set_pointer(CURL *easy, CURLoption option, void *value);
CURLcode sidecar_curl_easy_set_data_callback(CURL *easy, CURLoption option, sidecar_curl_data_callback callback);
CURLcode sidecar_curl_easy_get_long(CURL *easy, CURLINFO info, long *value);
CURLcode sidecar_curl_easy_get_pointer(CURL *easy, CURLINFO info, void **value);

CURLMcode sidecar_curl_multi_set_pointer(CURLM *multi, CURLMoption option, void *value);
CURLMcode sidecar_curl_multi_set_socket_callback(CURLM *multi, sidecar_curl_socket_callback callback);
CURLMcode sidecar_curl_multi_set_timer_callback(CURLM *multi, sidecar_curl_timer_callback callback);

#endif
