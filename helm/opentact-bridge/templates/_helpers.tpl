{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "opentact-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, the prefix of every resource. Truncated to 56 characters so that the
longest role suffix ("-ingest", "-worker", "-metrics") still fits in 63.
If the release name contains the chart name it is used as is.
*/}}
{{- define "opentact-bridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 56 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "opentact-bridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels for every object.
*/}}
{{- define "opentact-bridge.labels" -}}
helm.sh/chart: {{ include "opentact-bridge.chart" . }}
{{ include "opentact-bridge.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: opentact-bridge
{{- end }}

{{/*
Selector labels shared by every pod of the release (all roles).
*/}}
{{- define "opentact-bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "opentact-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one role's objects. Call with (dict "root" $ "role" "worker").
*/}}
{{- define "opentact-bridge.roleLabels" -}}
{{ include "opentact-bridge.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/*
Selector labels of one role's pods. Call with (dict "root" $ "role" "worker").
*/}}
{{- define "opentact-bridge.roleSelectorLabels" -}}
{{ include "opentact-bridge.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/*
Name of one role's objects: <fullname>-<role>. Call with (dict "root" $ "role" "worker").
*/}}
{{- define "opentact-bridge.roleFullname" -}}
{{- printf "%s-%s" (include "opentact-bridge.fullname" .root) .role }}
{{- end }}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "opentact-bridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "opentact-bridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the credentials: existingSecret, or the one this chart creates.
*/}}
{{- define "opentact-bridge.secretName" -}}
{{- default (include "opentact-bridge.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
Name of the ConfigMap holding the declared subscriptions file.
*/}}
{{- define "opentact-bridge.subscriptionsConfigMapName" -}}
{{- printf "%s-subscriptions" (include "opentact-bridge.fullname" .) }}
{{- end }}

{{/*
Where the declared subscriptions file is mounted (the value of SUBSCRIPTIONS_FILE).
*/}}
{{- define "opentact-bridge.subscriptionsPath" -}}
/etc/opentact-bridge/subscriptions.yaml
{{- end }}

{{/*
Image reference: repository@digest when a digest is given, else repository:tag (tag defaults to
the chart's appVersion).
*/}}
{{- define "opentact-bridge.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
An environment variable's value as a string. Helm reads numbers from values files as float64, so
a plain `toString` would turn 1048576 into "1.048576e+06"; whole numbers are printed as integers,
fractions (DELIVERY_RETRY_JITTER) as they are.
*/}}
{{- define "opentact-bridge.envValue" -}}
{{- if and (kindIs "float64" .) (eq (toString .) (toString (float64 (int64 .)))) }}
{{- int64 . | toString }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
Replicas a role keeps at the least: the HPA's minimum when autoscaling, else replicaCount.
Call with (dict "root" $ "role" "worker"); prints a number.
*/}}
{{- define "opentact-bridge.minReplicas" -}}
{{- $cfg := index .root.Values .role }}
{{- if dig "autoscaling" "enabled" false $cfg }}
{{- dig "autoscaling" "minReplicas" 1 $cfg }}
{{- else }}
{{- $cfg.replicaCount }}
{{- end }}
{{- end }}

{{/*
Refuse values that render but would misbehave: a grace period too short to drain.
*/}}
{{- define "opentact-bridge.validate" -}}
{{- $drainSeconds := add (div (int64 .Values.config.SHUTDOWN_TIMEOUT_MS) 1000) (int64 .Values.preStopSleepSeconds) }}
{{- if le (int64 .Values.terminationGracePeriodSeconds) $drainSeconds }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + config.SHUTDOWN_TIMEOUT_MS/1000 (%d), or in-flight deliveries are killed mid-request" (int64 .Values.terminationGracePeriodSeconds) $drainSeconds) }}
{{- end }}
{{- if not (or .Values.ingest.enabled .Values.worker.enabled .Values.api.enabled) }}
{{- fail "enable at least one of ingest, worker and api" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.api.enabled) }}
{{- fail "ingress.enabled routes to the api Service: enable api too" }}
{{- end }}
{{- end }}

{{/*
The TCP port a URL connects to: its explicit port, else 443 for https/wss and 80 for http/ws.
*/}}
{{- define "opentact-bridge.urlPort" -}}
{{- $url := urlParse . }}
{{- $port := regexFind ":[0-9]+$" $url.host | trimPrefix ":" }}
{{- if $port }}
{{- $port }}
{{- else if has $url.scheme (list "https" "wss") }}
{{- 443 }}
{{- else }}
{{- 80 }}
{{- end }}
{{- end }}

{{/*
PromQL label matchers of this release's series: metrics.prometheusRule.selector, or the job and
namespace the ServiceMonitor gives them.
*/}}
{{- define "opentact-bridge.seriesSelector" -}}
{{- $ctx := dict "root" . "role" "metrics" }}
{{- default (printf "job=%q,namespace=%q" (include "opentact-bridge.roleFullname" $ctx) .Release.Namespace) .Values.metrics.prometheusRule.selector }}
{{- end }}
