/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Checks that no single value can make: across the keys of one service, and
 * across services. Each returns 0, or -EINVAL with "FILE:LINE: what is
 * wrong" in *ret_error (the line of the [program:NAME] header; the caller
 * frees it), or -ENOMEM with *ret_error NULL. */

#include "config.h"

/* One service, once its section is read: it has a command; ${PORT} needs a
 * port; ready = health needs a health_url; a fixed port cannot serve
 * several instances. */
int service_config_validate(const ServiceConfig *s, char **ret_error);

/* The whole configuration, once every file is read: no two services have
 * the same fixed port. */
int config_validate(const Config *c, char **ret_error);
