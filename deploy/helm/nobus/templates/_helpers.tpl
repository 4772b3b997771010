{{- define "nobus.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nobus.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "nobus.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nobusd
{{- end -}}

{{- define "nobus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nobus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* nobusd's config file (doc/server.md). */}}
{{- define "nobus.config" -}}
{{- if and (not .Values.tls.existingSecret) (not .Values.insecure) -}}
{{- fail "nobusd listens beyond loopback: set tls.existingSecret (and auth.tokens), or insecure: true on a trusted network" -}}
{{- end -}}
{{- $c := dict "data_dir" "/var/lib/nobus" "table_root" .Values.objectStore.tableRoot
      "s3_region" .Values.objectStore.region "s3_path_style" .Values.objectStore.pathStyle
      "grpc_listen" (printf "0.0.0.0:%v" .Values.ports.grpc)
      "http_listen" (printf "0.0.0.0:%v" .Values.ports.http)
      "ops_listen" (printf "0.0.0.0:%v" .Values.ports.ops)
      "kafka_listen" "" "mqtt_listen" "" "insecure" .Values.insecure
      "http_max_connections_per_client" 0 -}}
{{- if .Values.objectStore.endpoint }}{{ $_ := set $c "s3_endpoint" .Values.objectStore.endpoint }}{{ end -}}
{{- if .Values.tls.existingSecret }}
{{- $_ := set $c "tls_cert" "/etc/nobus/tls/tls.crt" }}{{ $_ := set $c "tls_key" "/etc/nobus/tls/tls.key" }}
{{- end -}}
{{- if .Values.auth.tokens }}{{ $_ := set $c "tokens" .Values.auth.tokens }}{{ end -}}
{{- mustMergeOverwrite $c .Values.config | toPrettyJson -}}
{{- end -}}
