Code.require_file("../T.exs", __DIR__)
Code.require_file("../worker.exs", __DIR__)

T.main(fn ->
  {:ok, sup} = Supervisor.start_link([H.spec(:t, restart: :transient)], strategy: :one_for_one)
  p = H.pids(sup)[:t]
  Process.exit(p, :kill)
  T.settle()
  p2 = H.pids(sup)[:t]
  T.out("restarted", p2 != p)
  GenServer.stop(p2, :normal)
  T.settle()
  T.out("pid", H.pids(sup)[:t])
  T.out("count", Supervisor.count_children(sup))
end)
T.done()
