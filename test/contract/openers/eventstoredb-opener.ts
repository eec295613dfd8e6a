// Opens the EventStoreDB event store of a contract fixture in a child process; the argument is the connection string.
import { openEventStoreDbEventStore } from '../../../src/storage/eventstoredb/eventstoredb-event-store';
import type { OpenStore } from '../../support/append-in-child';

export const openStore: OpenStore = (connectionString) => openEventStoreDbEventStore(connectionString);
