/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef LIMPET_VERSION_H
#define LIMPET_VERSION_H

#define LIMPET_VERSION	"0.2.0"

#endif /* LIMPET_VERSION_H */
