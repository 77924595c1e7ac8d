// Envoy's own fields of each message this host reads (from Envoy's v3 API), past the ones the
// host implements: a field here that the host does not implement is refused when it would
// change what the proxy does, and only warned about when it cannot (`harmless`). A field in
// no list is not Envoy's: an error naming the closest field that is.

export interface EnvoyMessage {
  /** Envoy fields that cannot change how a request or connection is handled here (stats names, metadata, logging knobs). */
  harmless: string[];
  /** Envoy fields that would change behaviour and that this host does not implement. */
  unsupported: string[];
}

const m = (harmless: string, unsupported: string): EnvoyMessage => ({
  harmless: harmless.split(/\s+/).filter(Boolean),
  unsupported: unsupported.split(/\s+/).filter(Boolean),
});

export const ENVOY_MESSAGES: Record<string, EnvoyMessage> = {
  Bootstrap: m(
    "node_context_params stats_sinks deferred_stat_options stats_flush_interval stats_flush_on_admin watchdog watchdogs enable_dispatcher_stats stats_server_version_override flags_path perf_tracing_file_path application_log_config memory_allocator_manager",
    "dynamic_resources cluster_manager hds_config tracing overload_manager header_prefix use_tcp_for_dns_lookups dns_resolution_config typed_dns_resolver_config fatal_actions config_sources default_config_source default_socket_interface certificate_provider_instances inline_headers default_regex_engine xds_delegate_extension xds_config_tracker_extension listener_manager grpc_async_client_manager_config"),
  StaticResources: m("secrets", ""),
  Node: m("dynamic_parameters user_agent_name user_agent_version user_agent_build_version extensions client_features listening_addresses", ""),
  Admin: m("profile_path socket_options ignore_global_conn_limit", ""),
  Address: m("", "pipe envoy_internal_address"),
  SocketAddress: m("ipv4_compat", "named_port resolver_name"),
  Cluster: m(
    "alt_stat_name metadata track_timeout_budgets track_cluster_stats wait_for_warm_on_init dns_refresh_rate dns_failure_refresh_rate respect_dns_ttl cleanup_interval lrs_server",
    "transport_socket_matches cluster_type eds_cluster_config per_connection_buffer_limit_bytes health_checks max_requests_per_connection upstream_http_protocol_options common_http_protocol_options http_protocol_options dns_resolvers use_tcp_for_dns_lookups dns_resolution_config typed_dns_resolver_config outlier_detection upstream_bind_config lb_subset_config ring_hash_lb_config maglev_lb_config original_dst_lb_config least_request_lb_config round_robin_lb_config common_lb_config transport_socket protocol_selection upstream_connection_options close_connections_on_host_health_failure ignore_health_on_host_removal filters load_balancing_policy upstream_config preconnect_policy connection_pool_per_downstream_connection"),
  CircuitBreakers: m("", "per_host_thresholds"),
  Thresholds: m("track_remaining", "max_retries retry_budget max_connection_pools"),
  ClusterLoadAssignment: m("", "named_endpoints policy"),
  LocalityLbEndpoints: m("metadata load_balancing_weight proximity", "load_balancer_endpoints leds_cluster_locality_config"),
  LbEndpoint: m("endpoint_name metadata", ""),
  Endpoint: m("health_check_config hostname", "additional_addresses"),
  Listener: m(
    "stat_prefix metadata drain_type traffic_direction access_log tcp_backlog_size reuse_port enable_reuse_port max_connections_to_accept_per_socket_event ignore_global_conn_limit bypass_overload_manager tcp_fast_open_queue_length connection_balance_config socket_options",
    "additional_addresses filter_chain_matcher use_original_dst default_filter_chain deprecated_v1 listener_filters listener_filters_timeout continue_on_listener_filters_timeout transparent freebind udp_listener_config api_listener bind_to_port internal_listener enable_mptcp"),
  FilterChain: m("metadata name", "filter_chain_match use_proxy_proto transport_socket transport_socket_connect_timeout"),
  Extension: m("is_optional", "config_discovery disabled"),
  HttpConnectionManager: m(
    "access_log_options access_log_flush_interval flush_access_log_on_new_request drain_timeout delayed_close_timeout",
    "rds scoped_routes add_user_agent tracing http2_protocol_options http3_protocol_options server_name server_header_transformation scheme_header_transformation request_headers_timeout original_ip_detection_extensions early_header_mutation_extensions internal_address_config skip_xff_append via always_set_request_id_in_response forward_client_cert_details set_current_client_cert_details proxy_100_continue represent_ipv4_remote_address_as_ipv4_mapped_ipv6 upgrade_configs normalize_path merge_slashes path_with_escaped_slashes_action request_id_extension local_reply_config strip_matching_host_port strip_any_host_port stream_error_on_invalid_http_message path_normalization_options strip_trailing_host_dot proxy_status_config typed_header_validation_config append_x_forwarded_port append_local_overload add_proxy_protocol_connection_state"),
  HttpProtocolOptions: m("", "max_connection_duration max_response_headers_kb max_stream_duration headers_with_underscores_action max_requests_per_connection"),
  Http1ProtocolOptions: m("", "header_key_format enable_trailers allow_chunked_length override_stream_error_on_invalid_http_message send_fully_qualified_url use_balsa_parser allow_custom_methods ignore_http_11_upgrade"),
  RouteConfiguration: m("validate_clusters metadata max_direct_response_body_size_bytes",
    "vhds internal_only_headers response_headers_to_add response_headers_to_remove request_headers_to_add request_headers_to_remove most_specific_header_mutations_wins cluster_specifier_plugins request_mirror_policies ignore_port_in_host_matching ignore_path_parameters_in_path_matching typed_per_filter_config"),
  VirtualHost: m("metadata virtual_clusters",
    "matcher require_tls rate_limits request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove cors typed_per_filter_config include_request_attempt_count include_attempt_count_in_response retry_policy retry_policy_typed_config hedge_policy include_is_timeout_retry_header per_request_buffer_limit_bytes request_mirror_policies"),
  Route: m("metadata decorator stat_prefix tracing",
    "filter_action non_forwarding_action typed_per_filter_config request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove per_request_buffer_limit_bytes"),
  RouteMatch: m("", "connect_matcher path_separated_prefix path_match_policy runtime_fraction headers query_parameters grpc tls_context dynamic_metadata filter_state"),
  RegexMatcher: m("", ""),
  RouteAction: m("priority",
    "cluster_header weighted_clusters cluster_specifier_plugin inline_cluster_specifier_plugin cluster_not_found_response_code metadata_match regex_rewrite path_rewrite_policy host_rewrite_literal auto_host_rewrite host_rewrite_header host_rewrite_path_regex append_x_forwarded_host idle_timeout early_data_policy retry_policy retry_policy_typed_config request_mirror_policies rate_limits include_vh_rate_limits hash_policy cors max_grpc_timeout grpc_timeout_offset upgrade_configs internal_redirect_policy internal_redirect_action max_internal_redirects hedge_policy max_stream_duration"),
  RedirectAction: m("", "regex_rewrite"),
  DirectResponseAction: m("", ""),
  DataSource: m("", "environment_variable"),
  WasmFilter: m("", ""),
  PluginConfig: m("", "capability_restriction_config reload_config"),
  VmConfig: m("", ""),
  EnvironmentVariables: m("", ""),
  AsyncDataSource: m("", ""),
  LocalDataSource: m("", "environment_variable"),
  TcpProxy: m("access_log access_log_flush_interval flush_access_log_on_connected access_log_options",
    "on_demand metadata_match downstream_idle_timeout upstream_idle_timeout hash_policy tunneling_config max_downstream_connection_duration backoff_options proxy_protocol_tlvs"),
  WasmService: m("", ""),
  TypedStruct: m("", ""),
  StringValue: m("", ""),
  Router: m("dynamic_stats start_child_span upstream_log upstream_log_options suppress_envoy_headers",
    "strict_check_headers respect_expected_rq_timeout suppress_grpc_request_failure_code_stats upstream_http_filters"),
};

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short names. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The name in `names` closest to `name`, if one is close enough to be the one meant. */
export function closest(name: string, names: Iterable<string>, maxDistance = Math.max(2, Math.floor(name.length / 3))): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of names) {
    const dist = distance(name.toLowerCase(), candidate.toLowerCase());
    if (dist < bestDistance) {
      best = candidate;
      bestDistance = dist;
    }
  }
  return best !== null && (bestDistance <= maxDistance || best.includes(name) || name.includes(best)) ? best : null;
}
