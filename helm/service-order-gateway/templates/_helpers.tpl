{{/* Chart name, trimmed to 63 chars. */}}
{{- define "sog.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: release-chart unless the release name already contains the chart name. */}}
{{- define "sog.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sog.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sog.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sog.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sog.labels" -}}
helm.sh/chart: {{ include "sog.chart" . }}
{{ include "sog.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sog.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sog.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the client secret (chart-created or existing). */}}
{{- define "sog.secretName" -}}
{{- if .Values.secret.create }}
{{- include "sog.fullname" . }}
{{- else }}
{{- .Values.secret.existingSecret }}
{{- end }}
{{- end }}

{{/* Secret for an optional credential: its own existingSecret, else the main Secret. Arg: (list $ .Values.admin) */}}
{{- define "sog.optionalSecretName" -}}
{{- $root := index . 0 }}
{{- $part := index . 1 }}
{{- default (include "sog.secretName" $root) $part.existingSecret }}
{{- end }}

{{/*
The most pods that can run at once: each has its own upstream limiter, so each
gets upstreamRate / this number (SOG_REPLICAS).
*/}}
{{- define "sog.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- int .Values.autoscaling.maxReplicas }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/* Per-replica upstream rate for NOTES.txt, e.g. "5/s / 4 = 1.25/s". */}}
{{- define "sog.perReplicaRate" -}}
{{- $rate := toString .Values.config.upstreamRate }}
{{- $n := include "sog.maxReplicas" . | int }}
{{- if and (contains "/" $rate) (gt $n 0) }}
{{- $parts := splitList "/" $rate }}
{{- $num := first $parts | float64 }}
{{- printf "%s / %d = %s/%s" $rate $n (divf $num $n | printf "%.4g") (last $parts) }}
{{- else }}
{{- printf "%s / %d" $rate $n }}
{{- end }}
{{- end }}

{{/* true when a chart-created or existing Secret can be mounted. */}}
{{- define "sog.hasSecret" -}}
{{- if or .Values.secret.create .Values.secret.existingSecret }}true{{ end }}
{{- end }}

{{/* Checks that would otherwise give a broken Deployment. (helm lint only logs these.) */}}
{{- define "sog.validate" -}}
{{- $c := .Values.config }}
{{- if not $c.demo }}
{{- $_ := required "config.clientId is required (or set config.demo=true for the simulator)" $c.clientId }}
{{- if not (include "sog.hasSecret" .) }}
{{- fail "the client secret is required: set secret.create=true with secret.clientSecret, or secret.existingSecret (or config.demo=true)" }}
{{- end }}
{{- if and .Values.secret.create (not .Values.secret.clientSecret) }}
{{- fail "secret.create=true needs secret.clientSecret" }}
{{- end }}
{{- end }}
{{- if and $c.region (ne (toString $c.upstreamUrl) "https://api.ntt.com") $c.upstreamUrl }}
{{- fail "config.region and config.upstreamUrl are mutually exclusive: set only one (upstreamUrl is ignored when region is set)" }}
{{- end }}
{{- if .Values.secret.create }}
{{- range $check := list (list "admin" "token") (list "apiKeys" "keys") (list "redis" "url") }}
{{- $v := index $.Values (index $check 0) }}
{{- if and $v.enabled (not $v.existingSecret) (not (index $v (index $check 1))) }}
{{- fail (printf "%s.enabled=true with the chart's Secret needs %s.%s (or %s.existingSecret)" (index $check 0) (index $check 0) (index $check 1) (index $check 0)) }}
{{- end }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.cacheKey.enabled (not .Values.redis.existingSecret) (not .Values.redis.cacheKey.value) }}
{{- fail "redis.cacheKey.enabled=true with the chart's Secret needs redis.cacheKey.value (or redis.existingSecret)" }}
{{- end }}
{{- end }}
{{- if and .Values.redis.enabled (not .Values.redis.cacheKey.enabled) (not .Values.redis.allowPlaintext) }}
{{- fail "redis.enabled=true needs redis.cacheKey.enabled=true (the gateway encrypts cached customer data in Redis), or redis.allowPlaintext=true to store it unencrypted" }}
{{- end }}
{{- range $part := list "admin" "apiKeys" "redis" }}
{{- $v := index $.Values $part }}
{{- if and $v.enabled (not $v.existingSecret) (not (include "sog.hasSecret" $)) }}
{{- fail (printf "%s.enabled=true needs a Secret: %s.existingSecret, secret.existingSecret or secret.create=true" $part $part) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Gateway settings as env vars: [config key, env name]. Empty values are left out.
*/}}
{{- define "sog.env" -}}
{{- $c := .Values.config }}
{{- $pairs := list
  (list "region" "SOG_REGION")
  (list "tokenUrl" "SOG_TOKEN_URL")
  (list "clientId" "SOG_CLIENT_ID")
  (list "upstreamTimeout" "SOG_UPSTREAM_TIMEOUT")
  (list "demo" "SOG_DEMO")
  (list "logFormat" "SOG_LOG_FORMAT")
  (list "cacheMaxBytes" "SOG_CACHE_MAX_BYTES")
  (list "ordersTtl" "SOG_ORDERS_TTL")
  (list "detailsTtl" "SOG_DETAILS_TTL")
  (list "staleMaxAge" "SOG_STALE_MAX_AGE")
  (list "detailsDays" "SOG_DETAILS_DAYS")
  (list "detailsHours" "SOG_DETAILS_HOURS")
  (list "upstreamRate" "SOG_UPSTREAM_RATE")
  (list "upstreamBurst" "SOG_UPSTREAM_BURST")
  (list "upstreamQueueTimeout" "SOG_UPSTREAM_QUEUE_TIMEOUT")
  (list "requestTimeout" "SOG_REQUEST_TIMEOUT")
  (list "maxConcurrentRequests" "SOG_MAX_CONCURRENT_REQUESTS")
  (list "shutdownTimeout" "SOG_SHUTDOWN_TIMEOUT")
  (list "rustLog" "RUST_LOG") }}
- name: SOG_LISTEN
  value: "0.0.0.0:8080"
{{- if and $c.upstreamUrl (not $c.region) }}
- name: SOG_UPSTREAM_URL
  value: {{ $c.upstreamUrl | quote }}
{{- end }}
{{- range $pairs }}
{{- $v := index $c (index . 0) }}
{{- if and (kindIs "float64" $v) (eq $v (floor $v)) }}
{{- /* YAML numbers arrive as float64: render 100000 as "100000", not "1e+05". */}}
{{- $v = int64 $v }}
{{- end }}
{{- if and (not (kindIs "invalid" $v)) (ne (toString $v) "") }}
- name: {{ index . 1 }}
  value: {{ toString $v | quote }}
{{- end }}
{{- end }}
- name: SOG_REPLICAS
  value: {{ include "sog.maxReplicas" . | quote }}
{{- end }}
