/* bms-page.h — base of the window's pages: the connection, its device, and
 * the few things every page asks of them */
#pragma once

#include <adwaita.h>
#include "bms-connection.h"
#include "bms-device.h"
#include "bms-history.h"

G_BEGIN_DECLS

#define BMS_TYPE_PAGE (bms_page_get_type ())
G_DECLARE_DERIVABLE_TYPE (BmsPage, bms_page, BMS, PAGE, AdwBin)

struct _BmsPageClass
{
  AdwBinClass parent_class;

  /* Both run after the page holds the new object (possibly NULL) and the
   * old one's handlers with the page as data are gone, before "notify". */
  void (*connection_changed) (BmsPage *self);
  void (*device_changed)     (BmsPage *self);
};

BmsConnection *bms_page_get_connection (BmsPage       *self);
void           bms_page_set_connection (BmsPage       *self,
                                        BmsConnection *connection);
BmsDevice     *bms_page_get_device     (BmsPage       *self);
void           bms_page_set_device     (BmsPage       *self,
                                        BmsDevice     *device);
gboolean       bms_page_get_connected  (BmsPage       *self);
GtkWindow     *bms_page_get_window     (BmsPage       *self);
BmsHistory    *bms_page_get_history    (BmsPage       *self);
gint64         bms_page_get_history_device_id (BmsPage *self);
const BmsSnapshot *bms_page_get_snapshot (BmsPage     *self);
void           bms_page_notify_device  (BmsPage       *self);

/* Shorthands for a page's own code, where `self` is the page. */
#define BMS_PAGE_CONNECTION(page) (bms_page_get_connection (BMS_PAGE (page)))
#define BMS_PAGE_DEVICE(page)     (bms_page_get_device (BMS_PAGE (page)))

G_END_DECLS
